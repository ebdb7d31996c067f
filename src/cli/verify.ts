import { parseReference } from "../toolchain/oci.js";
import { type Command, parseFlags, UsageError } from "./command.js";
import { VERIFICATION_HELP, VERIFICATION_OPTIONS, verificationFromFlags, verifyModuleSource } from "./module-source.js";
import { AUTH_HELP, AUTH_OPTIONS, clientOptions } from "./registry.js";

export const verifyCommand: Command = {
  name: "verify",
  summary: "check a policy's signatures against keys or a Kubewarden verification config (like kwctl verify)",
  help: `Usage: loopback-probes verify registry://HOST[:PORT]/REPOSITORY[:TAG|@sha256:…]
         (-k PUB.pem… [-a KEY=VALUE]… | --verification-config-path FILE) [options]

Checks a policy's cosign signatures as policy-server and \`kwctl verify\` do for
keys: the reference is resolved to its manifest digest, the layers of the tag
sha256-<hex>.sig are read (a layer of another media type, that does not parse,
signs another digest or carries no signature is ignored, and listed), and each
rule is checked:
  -k PUB.pem         every key must have signed the digest (kwctl puts each -k
                     in allOf), with every -a KEY=VALUE in the payload's optional
  config allOf       every entry must be satisfied
  config anyOf       at least minimumMatches of its entries must be
  pubKey entry       a layer its key verifies, carrying its annotations
  genericIssuer,     keyless: they need Fulcio's certificate chain and Rekor,
  githubAction       which this command does not use, so they are reported as
                     not satisfied with a pointer to \`kwctl verify\` /
                     \`cosign verify\`, never passed
Prints every rule's outcome on stderr and, when verified, the immutable
reference registry://HOST/REPOSITORY@sha256:… on stdout: use that digest, not
the tag, for what comes next.

${VERIFICATION_HELP}

Options:
${AUTH_HELP}

Exit codes: 0 verified, 1 not verified (or the registry failed), 2 bad usage.

Examples:
  loopback-probes verify registry://ghcr.io/acme/policies/reject-loopback-probes:v0.1.0 -k policy-signing.pub -a env=prod
  loopback-probes verify registry://ghcr.io/acme/policies/reject-loopback-probes:v0.1.0 --verification-config-path verification-config.yml`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, { ...AUTH_OPTIONS, ...VERIFICATION_OPTIONS });
    if (positionals.length !== 1) throw new UsageError("expected one registry://HOST/REPOSITORY[:TAG|@sha256:…] reference");
    const source = positionals[0]!.startsWith("registry://") ? positionals[0]! : `registry://${positionals[0]!}`;
    const verification = verificationFromFlags(values);
    if (!verification) throw new UsageError("nothing to verify against: give -k/--verification-key PUB.pem or --verification-config-path FILE");
    let ref;
    try {
      ref = parseReference(source);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const result = await verifyModuleSource(source, verification, clientOptions(values, ref.registry));
    console.log(result.immutable);
    return 0;
  },
};
