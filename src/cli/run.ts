import { readFileSync } from "node:fs";
import type { AdmissionRequest } from "../kubewarden/protocol.js";
import { parse as parseYaml } from "yaml";
import {
  admissionRequestOf,
  DEFAULT_TIMEOUT_SECONDS,
  type Engine,
  ENGINES,
  InvalidModule,
  type LoadedPolicy,
  loadPolicy,
  validate,
  validateSettings,
} from "../toolchain/evaluate.js";
import { contextAwareResourcesOf } from "../toolchain/kubernetes-context.js";
import type { ClientOptions } from "../toolchain/oci.js";
import { type Command, parseFlags, UsageError } from "./command.js";
import type { HostContextFlags } from "./host-context.js";
import { bundledModuleNames, loadModuleSource, type ModuleVerification, VERIFICATION_HELP, VERIFICATION_OPTIONS, verificationFromFlags } from "./module-source.js";
import { terminalText } from "../audit/terminal-text.js";
import { isPolicyFile, loadPolicyFile, runPolicyFile } from "./policy-file.js";
import { engineError, hostCallsFor, parseAllowedCapabilities, printResponse, type RunSetup } from "./run-setup.js";

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

/** Load a module given on the command line (a path, a bundled module's name or registry://…): not a wasm module is bad input (exit 2), with its name. */
export async function loadModuleArgument(path: string | undefined, pull: ClientOptions & { verification?: ModuleVerification | undefined } = {}): Promise<LoadedPolicy> {
  if (!path) throw new UsageError(`missing the module: a path, registry://HOST/REPO[:TAG|@sha256:…], a bundled module (${bundledModuleNames().join(", ") || "none built"}) or a policy file (.yaml)`);
  const bytes = (await loadModuleSource(path, pull)).bytes;
  try {
    return await loadPolicy(bytes);
  } catch (e) {
    if (e instanceof InvalidModule) throw new UsageError(`${path}: ${e.message}`);
    throw e;
  }
}

/** --engine: one of ENGINES. */
export function parseEngine(value: string | undefined, fallback: Engine): Engine {
  if (value === undefined) return fallback;
  if (!(ENGINES as readonly string[]).includes(value)) throw new UsageError(`--engine must be ${ENGINES.join(" or ")}, got "${value}"`);
  return value as Engine;
}

/** --timeout SECONDS: a whole number > 0 (policy-server's timeoutEvalSeconds), or 0 for none. */
export function parseTimeout(value: string | undefined): number | null {
  if (value === undefined) return DEFAULT_TIMEOUT_SECONDS;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new UsageError(`--timeout must be a whole number of seconds (0 = no deadline), got "${value}"`);
  return n === 0 ? null : n;
}

export { engineError } from "./run-setup.js";

export function readRequest(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path === "-" ? 0 : path, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read request ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`request ${path === "-" ? "on stdin" : path} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export const runCommand: Command = {
  name: "run",
  summary: "evaluate one admission request with a built module or a policy file (like kwctl run)",
  help: `Usage: loopback-probes run MODULE --request-path REQUEST.json|-
                           [--settings-json '{…}' | --settings-path settings.yml]
                           [--engine wasmtime|node] [--timeout SECONDS]
                           [--mode protect|monitor] [--pretty] [--plain-http]
                           [--allowed-host-capabilities PATTERN]…
                           [--context FILE]… | [--replay-host-capabilities-interactions FILE]
                           [-k PUB.pem… [-a K=V]… | --verification-config-path FILE]
       loopback-probes run POLICY.yaml --request-path REQUEST.json|- [same options]

MODULE is a module file (policy.wasm), the name of a module bundled with this
CLI (reject-loopback-probes, rewrite-loopback-probes,
reject-listenlocal-reloader-probes), or registry://HOST[:PORT]/REPO[:TAG|@sha256:…]
(pulled into the user's cache and digest-verified, as for audit --policy).

Evaluates like \`kwctl run\` and answers like policy-server: runs
validate-settings first (invalid settings → "Provided settings are not valid: …"
on stderr, exit 1), then validate with {"request", "settings"} on stdin, in a
fresh instance with argv ["policy.wasm", action], no environment, no files.
REQUEST.json (\`-\`: stdin) holds a bare AdmissionRequest or a whole
AdmissionReview; like kwctl, it needs uid, kind, resource, operation and userInfo.

Prints the AdmissionResponse on one line, as kwctl does (--pretty: indented):
uid, allowed, then patchType "JSONPatch" and the base64 patch (request.object
diffed against the policy's mutated_object) when something changed, status
{message, details, code} when there is one, and auditAnnotations and warnings
(null when the policy gave none). As policy-server answers:
  - a trap or non-zero exit (the deadline included): allowed false, code 500,
    message = the module's stderr
  - an answer that is not a ValidationResponse: code 500,
    "internal server error: Cannot deserialize policy validation response: …"
  - a mutation from a policy whose metadata says mutating: false (what
    \`scaffold manifest\` puts in the ClusterAdmissionPolicy): rejected, but only
    when the patch is non-empty
  - --mode monitor: always allowed, patch and status dropped

POLICY.yaml (a file ending in .yaml or .yml): Kubewarden policy resources, as
kwctl takes them — ClusterAdmissionPolicy, AdmissionPolicy,
ClusterAdmissionPolicyGroup, AdmissionPolicyGroup (policies.kubewarden.io/v1),
one or more per file. Every policy of the file is evaluated on the request, in
order, and answers on its own line. From each resource: spec.module
(registry://… pulled and digest-verified, or file:///ABSOLUTE/PATH.wasm),
spec.settings (--settings-* are ignored), spec.contextAwareResources (what host
calls may read; AdmissionPolicies have none), spec.mode (--mode is ignored),
spec.mutating, spec.message (replaces a rejection's message, which moves to
status.details.causes) and spec.timeoutEvalSeconds (else --timeout). A group
evaluates its members as its spec.expression calls them (&& and || stop early)
and rejects with spec.message, each rejecting member's message a cause
(field spec.policies.NAME). Expressions of member calls, true, false, !, &&,
||, == and != (all the controller admits) are evaluated; anything else is
refused with what it holds. Rules, selectors and matchConditions are not read:
the request given is evaluated as if they selected it. A policy file answers
exactly as its module with the same settings and mode.

Host capabilities (context-aware policies) are answered, for the resources the
module's metadata lists in contextAwareResources (as kwctl --allow-context-aware;
for a policy file: the resource's own list):
  --context FILE   objects to answer Kubernetes lookups from (kubectl -o json Lists,
                   YAML streams, JSON, folders); repeatable
  --replay-host-capabilities-interactions FILE
                   answers recorded by kwctl run --record-host-capabilities-interactions
                   (a YAML list of "type: Exchange" entries), replayed in order
Without either, every host capability is refused (the policy decides what that means).
  --allowed-host-capabilities PATTERN
                   what the policy may call at all, as kwctl (default *): * , a
                   category (kubernetes/*, oci/v1/*) or one capability
                   (kubernetes/list_resources_all); repeatable; an empty value
                   (--allowed-host-capabilities=) allows nothing. A call outside
                   it gets policy-server's answer: "Policy has not been granted
                   access to the 'kubernetes/list_resources_all' host capability.
                   The violation has been reported." (what a PolicyServer's
                   namespacedPoliciesCapabilities does to an AdmissionPolicy)

Options:
  --engine wasmtime   (default) wasmtime 49.0.0, configured as policy-server: epoch
                      interruption with a 1 s ticker, the module compiled once
                      and instantiated fresh. Python's wasmtime package in a venv,
                      set up on first use (python3 -m venv + pip install, with
                      pip's configuration: offline from a local index) in
                      ~/.cache/loopback-probes/wasmtime-49.0.0 (.cache/wasmtime
                      in a source checkout); needs python3 with venv
  --engine node       node:wasi (V8): needs nothing else, but cannot interrupt a
                      module, so --timeout does not apply
  --timeout SECONDS   deadline in epochs of 1 s, as policy-server's
                      --policy-timeout / timeoutEvalSeconds (default ${DEFAULT_TIMEOUT_SECONDS}: the
                      evaluation is interrupted after 1 to 2 s); 0: none
  --mode MODE         the ClusterAdmissionPolicy mode (default protect)
  --plain-http        pull registry:// modules over HTTP (local registries)

${VERIFICATION_HELP}

Exit codes: 0 evaluated (accepted or rejected), 1 settings rejected, the engine
failed or the signatures did not verify, 2 bad usage, unreadable input, a request missing required fields, or a
module that is not WebAssembly.`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      "request-path": { type: "string", short: "r" },
      "settings-json": { type: "string" },
      "settings-path": { type: "string" },
      engine: { type: "string" },
      timeout: { type: "string" },
      mode: { type: "string" },
      pretty: { type: "boolean", default: false },
      context: { type: "string", multiple: true },
      "replay-host-capabilities-interactions": { type: "string" },
      ...VERIFICATION_OPTIONS,
      "allowed-host-capabilities": { type: "string", multiple: true },
      "plain-http": { type: "boolean", default: false },
    });
    if (positionals.length > 1) throw new UsageError(`expected one module or policy file, got ${positionals.length}`);
    const engine = parseEngine(values.engine, "wasmtime");
    const timeoutSeconds = parseTimeout(values.timeout);
    if (values.mode !== undefined && values.mode !== "protect" && values.mode !== "monitor")
      throw new UsageError(`--mode must be protect or monitor, got "${values.mode}"`);
    if (!values["request-path"]) throw new UsageError("missing --request-path (a file, or - for stdin)");
    const allowedCapabilities = parseAllowedCapabilities(values["allowed-host-capabilities"]);
    const hostFlags: HostContextFlags = { context: values.context ?? [], ...(values["replay-host-capabilities-interactions"] === undefined ? {} : { replay: values["replay-host-capabilities-interactions"] }) };
    if (hostFlags.replay !== undefined && (hostFlags.context?.length ?? 0) > 0) throw new UsageError("give --context or --replay-host-capabilities-interactions, not both");
    const target = positionals[0];
    // How registry:// modules are pulled, with the signatures they must carry (kwctl's -k/-a/--verification-config-path).
    const pull: ClientOptions & { verification?: ModuleVerification | undefined } = { plainHttp: values["plain-http"], verification: verificationFromFlags(values) };
    // What the positional names is read first: its errors come before the request's.
    const policyFile = target !== undefined && isPolicyFile(target) ? await loadPolicyFile(target, pull) : undefined;
    const settings = policyFile ? undefined : readSettings(values);
    const module = policyFile ? undefined : await loadModuleArgument(target, pull);
    let request: AdmissionRequest;
    try {
      request = admissionRequestOf(readRequest(values["request-path"]));
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new UsageError(`cannot build an AdmissionRequest from ${values["request-path"] === "-" ? "stdin" : values["request-path"]}: ${(e as Error).message}`);
    }
    const setup: RunSetup = { engine, timeoutSeconds, request, hostFlags, allowedCapabilities, pretty: values.pretty };
    if (policyFile) {
      // As kwctl: what the resources say wins over these flags.
      const ignored = [values["settings-json"] !== undefined && "--settings-json", values["settings-path"] !== undefined && "--settings-path", values.mode !== undefined && "--mode"].filter(Boolean);
      if (ignored.length > 0) console.error(`note: ${ignored.join(", ")} ignored: a policy file gives each policy's settings and mode`);
      return runPolicyFile(policyFile, setup);
    }
    return runModule(module!, settings, (values.mode ?? "protect") as "protect" | "monitor", setup);
  },
};

/** `run MODULE`: the module with the flags' settings and mode (kwctl's "policy-from-cli"). */
async function runModule(policy: LoadedPolicy, settings: unknown, mode: "protect" | "monitor", setup: RunSetup): Promise<number> {
  let interrupted = false;
  const { hostCall, remaining } = hostCallsFor(setup, contextAwareResourcesOf(policy.metadata));
  const options = { engine: setup.engine, timeoutSeconds: setup.timeoutSeconds, mode, ...(hostCall ? { hostCall } : {}), onRun: (r: { interrupted: boolean }) => void (interrupted ||= r.interrupted) };
  try {
    const verdict = await validateSettings(policy, settings, options);
    if (!verdict.valid) {
      console.error(terminalText(`Provided settings are not valid: ${verdict.message ?? ""}`));
      if (interrupted) console.error(`note: validate-settings hit the ${setup.timeoutSeconds} s deadline (epoch interruption)`);
      return 1;
    }
    printResponse(setup, await validate(policy, setup.request, settings, options));
    if (remaining && remaining() > 0) console.error(`warning: ${remaining()} recorded exchange(s) were not replayed`);
    if (interrupted)
      console.error(`note: the evaluation hit the ${setup.timeoutSeconds} s deadline (epoch interruption); policy-server answers this with code 500 and the module's stderr as the message`);
    return 0;
  } catch (e) {
    return engineError(e);
  }
}
