import { parseReference } from "../toolchain/oci.js";
import { printable } from "../toolchain/oci-http.js";
import { signModule } from "../toolchain/signatures.js";
import { type Command, parseFlags, UsageError } from "./command.js";
import { annotationPairs } from "./module-source.js";
import { AUTH_HELP, AUTH_OPTIONS, clientOptions } from "./registry.js";
import { checkAnnotations, describeSigning, readSigningKey, SIGNING_KEY_HELP, SIGNING_KEY_OPTIONS } from "./signing-key.js";

export const signCommand: Command = {
  name: "sign",
  summary: "sign a policy in a registry with a key (cosign simple signing, verifiable by Kubewarden)",
  help: `Usage: loopback-probes sign registry://HOST[:PORT]/REPOSITORY[:TAG|@sha256:…] --key KEY.pem
                            [-a KEY=VALUE]… [options]

Signs a policy as \`cosign sign --key\` does and Kubewarden verifies it (PolicyServer
verificationConfig, \`kwctl verify -k\`, \`loopback-probes verify\`), without a
transparency log, so it works air-gapped. A tag is resolved to its manifest
digest first and that digest is what is signed (printed on stdout). The
signature is a layer added to the tag sha256-<hex>.sig in the same repository:
a payload {"critical": {"identity": {"docker-reference": HOST/REPOSITORY},
"image": {"docker-manifest-digest": sha256:…}, "type": "cosign container image
signature"}, "optional": {annotations}} and its signature in the layer
annotation dev.cosignproject.cosign/signature. Layers already there (other
signers, keyless signatures) are kept; signing again with the same key and
annotations adds nothing.

Keys (PEM): PKCS#8 "PRIVATE KEY" (or "ENCRYPTED PRIVATE KEY"), openssl's "EC
PRIVATE KEY" / "RSA PRIVATE KEY", or cosign's cosign.key (\`cosign
generate-key-pair\`). ECDSA P-256 (what cosign makes), P-384, RSA 2048-4096
and Ed25519: what every Kubewarden release in use can verify. Make one with
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out policy-signing.key
  openssl pkey -in policy-signing.key -pubout -out policy-signing.pub

Options:
  --key KEY.pem         the private key (required)
  -a, --annotation K=V  add K=V to the payload's "optional" (what kwctl's and our
                        \`verify -a K=V\` check); repeatable. Not "creator" or
                        "timestamp": Kubewarden never matches those
${SIGNING_KEY_HELP}
${AUTH_HELP}

Examples:
  loopback-probes sign registry://localhost:5000/policies/reject-loopback-probes:v0.1.0 --key policy-signing.key --plain-http
  COSIGN_PASSWORD=… loopback-probes sign registry://ghcr.io/acme/policies/reject-loopback-probes:v0.1.0 --key cosign.key -a env=prod`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, { ...AUTH_OPTIONS, ...SIGNING_KEY_OPTIONS, key: { type: "string" }, annotation: { type: "string", short: "a", multiple: true } });
    if (positionals.length !== 1) throw new UsageError("expected one registry://HOST/REPOSITORY[:TAG|@sha256:…] reference");
    if (!values.key) throw new UsageError("missing --key KEY.pem");
    const annotations = annotationPairs(values.annotation);
    const source = positionals[0]!.startsWith("registry://") ? positionals[0]! : `registry://${positionals[0]!}`;
    const ref = parseReference(source);
    checkAnnotations(annotations);
    const key = readSigningKey(values.key, values);
    const result = await signModule(source, key, annotations, clientOptions(values, ref.registry));
    console.error(printable(describeSigning(result, key)));
    console.log(result.signed);
    return 0;
  },
};
