import { readFileSync } from "node:fs";
import type { AdmissionRequest } from "../kubewarden/protocol.js";
import { parse as parseYaml } from "yaml";
import {
  admissionRequestOf,
  DEFAULT_TIMEOUT_SECONDS,
  type Engine,
  ENGINES,
  InvalidModule,
  kwctlJson,
  type LoadedPolicy,
  loadPolicy,
  validate,
  validateSettings,
} from "../toolchain/evaluate.js";
import { WasmtimeModuleError, WasmtimeUnavailable } from "../toolchain/wasmtime-runner.js";
import { type Command, parseFlags, UsageError } from "./command.js";
import { bundledModuleNames, loadModuleSource, type ModuleVerification, VERIFICATION_HELP, VERIFICATION_OPTIONS, verificationFromFlags } from "./module-source.js";
import type { ClientOptions } from "../toolchain/oci.js";
import { hostCallFromFlags } from "./host-context.js";
import { terminalText } from "../audit/terminal-text.js";

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
export async function loadModuleArgument(path: string | undefined, options: ClientOptions & { verification?: ModuleVerification | undefined } = {}): Promise<LoadedPolicy> {
  if (!path) throw new UsageError(`missing the module: a path, registry://HOST/REPO[:TAG|@sha256:…], or a bundled module (${bundledModuleNames().join(", ") || "none built"})`);
  const bytes = (await loadModuleSource(path, options)).bytes;
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

/** Explain engine problems in words; anything else propagates. */
export function engineError(e: unknown): never {
  if (e instanceof WasmtimeUnavailable) throw new Error(e.message.includes("--engine node") ? e.message : `${e.message}\n(or pass --engine node to run under node:wasi)`);
  if (e instanceof WasmtimeModuleError) throw new Error(`wasmtime cannot load the module: ${e.message}`);
  throw e;
}

function readRequest(path: string): unknown {
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
  summary: "evaluate one admission request with a built module (like kwctl run)",
  help: `Usage: loopback-probes run MODULE --request-path REQUEST.json|-
                           [--settings-json '{…}' | --settings-path settings.yml]
                           [--engine wasmtime|node] [--timeout SECONDS]
                           [--mode protect|monitor] [--pretty] [--plain-http]
                           [--context FILE]… | [--replay-host-capabilities-interactions FILE]
                           [-k PUB.pem… [-a K=V]… | --verification-config-path FILE]

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
{message, code} when the policy gave either, and auditAnnotations and warnings
(null when the policy gave none). As policy-server answers:
  - a trap or non-zero exit (the deadline included): allowed false, code 500,
    message = the module's stderr
  - an answer that is not a ValidationResponse: code 500,
    "internal server error: Cannot deserialize policy validation response: …"
  - a mutation from a policy whose metadata says mutating: false (what
    \`scaffold manifest\` puts in the ClusterAdmissionPolicy): rejected, but only
    when the patch is non-empty
  - --mode monitor: always allowed, patch and status dropped

Host capabilities (context-aware policies) are answered, for the resources the
module's metadata lists in contextAwareResources (as kwctl --allow-context-aware):
  --context FILE   objects to answer Kubernetes lookups from (kubectl -o json Lists,
                   YAML streams, JSON, folders); repeatable
  --replay-host-capabilities-interactions FILE
                   answers recorded by kwctl run --record-host-capabilities-interactions
                   (a YAML list of "type: Exchange" entries), replayed in order
Without either, every host capability is refused (the policy decides what that means).

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
  --plain-http        pull a registry:// module over HTTP (local registries)

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
      "plain-http": { type: "boolean", default: false },
    });
    if (positionals.length > 1) throw new UsageError(`expected one module, got ${positionals.length}`);
    const engine = parseEngine(values.engine, "wasmtime");
    const timeoutSeconds = parseTimeout(values.timeout);
    if (values.mode !== undefined && values.mode !== "protect" && values.mode !== "monitor")
      throw new UsageError(`--mode must be protect or monitor, got "${values.mode}"`);
    const mode = (values.mode ?? "protect") as "protect" | "monitor";
    if (!values["request-path"]) throw new UsageError("missing --request-path (a file, or - for stdin)");
    const settings = readSettings(values);
    const policy = await loadModuleArgument(positionals[0], { plainHttp: values["plain-http"], verification: verificationFromFlags(values) });
    let request: AdmissionRequest;
    try {
      request = admissionRequestOf(readRequest(values["request-path"]));
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new UsageError(`cannot build an AdmissionRequest from ${values["request-path"] === "-" ? "stdin" : values["request-path"]}: ${(e as Error).message}`);
    }
    let interrupted = false;
    const hostCall = hostCallFromFlags(policy.metadata, { context: values.context ?? [], replay: values["replay-host-capabilities-interactions"] });
    const options = { engine, timeoutSeconds, mode, ...(hostCall ? { hostCall } : {}), onRun: (r: { interrupted: boolean }) => void (interrupted ||= r.interrupted) };
    try {
      const verdict = await validateSettings(policy, settings, options);
      if (!verdict.valid) {
        console.error(terminalText(`Provided settings are not valid: ${verdict.message ?? ""}`));
        if (interrupted) console.error(`note: validate-settings hit the ${timeoutSeconds} s deadline (epoch interruption)`);
        return 1;
      }
      const response = await validate(policy, request, settings, options);
      console.log(values.pretty ? JSON.stringify(kwctlJson(response), null, 2) : JSON.stringify(kwctlJson(response)));
      if (hostCall && "remaining" in hostCall && hostCall.remaining() > 0)
        console.error(`warning: ${hostCall.remaining()} recorded exchange(s) were not replayed`);
      if (interrupted)
        console.error(`note: the evaluation hit the ${timeoutSeconds} s deadline (epoch interruption); policy-server answers this with code 500 and the module's stderr as the message`);
      return 0;
    } catch (e) {
      return engineError(e);
    }
  },
};
