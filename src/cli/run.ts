import { readFileSync } from "node:fs";
import type { AdmissionRequest } from "../kubewarden/protocol.js";
import { parse as parseYaml } from "yaml";
import { admissionRequestOf, loadPolicy, validate, validateSettings } from "../toolchain/evaluate.js";
import { type Command, parseFlags, UsageError } from "./command.js";
import { loadModuleSource } from "./module-source.js";
import { hostCallFromFlags } from "./host-context.js";

/** Settings from --settings-json or --settings-path (YAML or JSON); {} when neither. */
export function readSettings(values: { "settings-json"?: string; "settings-path"?: string }): unknown {
  if (values["settings-json"] !== undefined && values["settings-path"] !== undefined)
    throw new UsageError("give --settings-json or --settings-path, not both");
  try {
    if (values["settings-json"] !== undefined) return JSON.parse(values["settings-json"]);
    if (values["settings-path"] !== undefined) return parseYaml(readFileSync(values["settings-path"], "utf8")) ?? {};
  } catch (e) {
    throw new UsageError(`cannot read settings: ${e instanceof Error ? e.message : String(e)}`);
  }
  return {};
}

export function readModule(path: string | undefined): Uint8Array {
  if (!path) throw new UsageError("missing the module path (e.g. dist/reject-loopback-probes.wasm)");
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new UsageError(`cannot read module ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export const runCommand: Command = {
  name: "run",
  summary: "evaluate one admission request with a built module (like kwctl run)",
  help: `Usage: loopback-probes run MODULE.wasm --request-path REQUEST.json
                           [--settings-json '{…}' | --settings-path settings.yml]
                           [--context FILE]… | [--replay-host-capabilities-interactions FILE]

Evaluates like \`kwctl run\`: runs validate-settings first (invalid settings →
the message on stderr, exit 1), then validate with {"request", "settings"} on
stdin, in a fresh instance under node:wasi with argv ["policy.wasm", action].
REQUEST.json holds a bare AdmissionRequest or a whole AdmissionReview.

Prints the AdmissionResponse: uid, allowed, status {message, code}, and for
mutations patchType "JSONPatch" with the base64 patch computed by diffing
request.object against the policy's mutated_object, plus warnings and
auditAnnotations. Exit 0 whether the request is accepted or rejected.

Host capabilities (context-aware policies) are answered, for the resources the
module's metadata lists in contextAwareResources (as kwctl --allow-context-aware):
  --context FILE   objects to answer Kubernetes lookups from (kubectl -o json Lists,
                   YAML streams, JSON, folders); repeatable
  --replay-host-capabilities-interactions FILE
                   answers recorded by kwctl run --record-host-capabilities-interactions
                   (a YAML list of "type: Exchange" entries), replayed in order
Without either, every host capability is refused (the policy decides what that means).

Exit codes: 0 evaluated, 1 settings rejected, 2 bad usage or unreadable input.`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      "request-path": { type: "string", short: "r" },
      "settings-json": { type: "string" },
      "settings-path": { type: "string" },
      context: { type: "string", multiple: true },
      "replay-host-capabilities-interactions": { type: "string" },
    });
    if (positionals.length > 1) throw new UsageError(`expected one module, got ${positionals.length}`);
    if (!positionals[0]) throw new UsageError("missing the module: a path or registry://HOST/REPO[:TAG|@sha256:…]");
    const bytes = (await loadModuleSource(positionals[0])).bytes;
    if (!values["request-path"]) throw new UsageError("missing --request-path");
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(values["request-path"], "utf8"));
    } catch (e) {
      throw new UsageError(`cannot read request ${values["request-path"]}: ${e instanceof Error ? e.message : String(e)}`);
    }
    let request: AdmissionRequest;
    try {
      request = admissionRequestOf(doc);
    } catch (e) {
      throw new UsageError(`${values["request-path"]}: ${(e as Error).message}`);
    }
    const settings = readSettings(values);
    const policy = await loadPolicy(bytes);
    const verdict = await validateSettings(policy, settings);
    if (!verdict.valid) {
      console.error(`settings rejected: ${verdict.message ?? "(no message)"}`);
      return 1;
    }
    const hostCall = hostCallFromFlags(policy.metadata, { context: values.context ?? [], replay: values["replay-host-capabilities-interactions"] });
    const response = await validate(policy, request, settings, hostCall ? { hostCall } : {});
    if (hostCall && "remaining" in hostCall && hostCall.remaining() > 0)
      console.error(`warning: ${hostCall.remaining()} recorded exchange(s) were not replayed`);
    console.log(JSON.stringify(response, null, 2));
    return 0;
  },
};
