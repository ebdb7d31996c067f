/**
 * `run POLICY.yaml`: every Kubewarden policy resource of a file evaluated on one
 * request, as `kwctl run` does (crates/kwctl/src/command/run.rs): each policy's
 * settings validated first ("Provided settings are not valid: …", exit 1), then
 * its answer on a line of its own, in the file's order. A policy answers
 * exactly as `run MODULE` with the same settings and mode: the same evaluation
 * (run-setup.ts), with the resource's mutating, message, contextAwareResources
 * and timeoutEvalSeconds; a group through policy-group.ts.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  type AdmissionResponse,
  applyPolicyConfiguration,
  type EvaluationOptions,
  InvalidModule,
  type LoadedPolicy,
  loadPolicy,
  validate,
  validateSettings,
} from "../toolchain/evaluate.js";
import { memberId, parsePolicyDefinitions, type PolicyDefinition, PolicyDefinitionError, type PolicyGroup, type PolicyMember, type SinglePolicy } from "../toolchain/policy-definition.js";
import { evaluateGroup, type GroupMemberRunner, validateGroupSettings } from "../toolchain/policy-group.js";
import { terminalText } from "../audit/terminal-text.js";
import { UsageError } from "./command.js";
import type { ClientOptions } from "../toolchain/oci.js";
import { loadModuleSource, type ModuleVerification } from "./module-source.js";

/** How a file's registry:// modules are pulled: plain HTTP, and the signatures each must carry. */
type PullOptions = ClientOptions & { verification?: ModuleVerification | undefined };
import { engineError, hostCallsFor, printResponse, type RunSetup } from "./run-setup.js";

/** kwctl takes a file of policy resources when its name ends in .yaml or .yml. */
export const isPolicyFile = (target: string) => /\.ya?ml$/i.test(target) && !target.startsWith("registry://");

/** A module URI of a policy resource → what loadModuleSource reads: a registry:// reference, or the path of a file:// URL. */
export function moduleSpecOf(uri: string): string {
  if (uri.startsWith("registry://")) return uri;
  if (uri.startsWith("file://")) {
    try {
      return fileURLToPath(uri);
    } catch (e) {
      throw new UsageError(`module ${JSON.stringify(uri)}: ${(e as Error).message} (a file:// module needs an absolute path: file:///path/to/policy.wasm)`);
    }
  }
  if (/^https?:\/\//.test(uri)) throw new UsageError(`module ${JSON.stringify(uri)}: http(s):// modules are not fetched by this runner; push the module to a registry (registry://…) or name the file (file:///…)`);
  throw new UsageError(`module ${JSON.stringify(uri)}: expected registry://HOST/REPO[:TAG|@sha256:…] or file:///ABSOLUTE/PATH.wasm, as in a policy resource`);
}

/** Each distinct module once (a file may name one module in several policies). */
async function loadModules(definitions: readonly PolicyDefinition[], pull: PullOptions): Promise<Map<string, LoadedPolicy>> {
  const uris = new Set(definitions.flatMap((d) => ("members" in d ? d.members.map(([, m]) => m.module) : [d.module])));
  const modules = new Map<string, LoadedPolicy>();
  for (const uri of uris) {
    const bytes = (await loadModuleSource(moduleSpecOf(uri), pull)).bytes;
    try {
      modules.set(uri, await loadPolicy(bytes));
    } catch (e) {
      if (e instanceof InvalidModule) throw new UsageError(`module ${JSON.stringify(uri)}: ${e.message}`);
      throw e;
    }
  }
  return modules;
}

/** The evaluation options of one policy or group member: its grants, its deadline, the run's engine. */
function memberOptions(setup: RunSetup, member: PolicyMember, hostCall: EvaluationOptions["hostCall"]): EvaluationOptions {
  return { engine: setup.engine, timeoutSeconds: member.timeoutEvalSeconds ?? setup.timeoutSeconds, ...(hostCall ? { hostCall } : {}) };
}

type Outcome = { ok: true; response: AdmissionResponse } | { ok: false; message: string };

async function evaluatePolicy(p: SinglePolicy, modules: Map<string, LoadedPolicy>, setup: RunSetup): Promise<Outcome> {
  const policy = modules.get(p.module)!;
  const { hostCall } = hostCallsFor(setup, p.contextAwareResources);
  const options: EvaluationOptions = {
    ...memberOptions(setup, p, hostCall),
    mode: p.mode,
    mutating: p.mutating,
    policyId: p.name,
    ...(p.message === undefined ? {} : { rejectionMessage: p.message }),
  };
  const verdict = await validateSettings(policy, p.settings, options);
  if (!verdict.valid) return { ok: false, message: verdict.message ?? "" };
  return { ok: true, response: await validate(policy, setup.request, p.settings, options) };
}

async function evaluatePolicyGroup(g: PolicyGroup, modules: Map<string, LoadedPolicy>, setup: RunSetup): Promise<Outcome> {
  const members = new Map(g.members);
  const optionsOf = (name: string): [LoadedPolicy, PolicyMember, EvaluationOptions] => {
    const m = members.get(name)!;
    const { hostCall } = hostCallsFor(setup, m.contextAwareResources);
    // A member's own answer: no mode, mutation left for the group to refuse.
    return [modules.get(m.module)!, m, { ...memberOptions(setup, m, hostCall), mode: "protect", mutating: true, policyId: memberId(g, name) }];
  };
  const runner: GroupMemberRunner = {
    validateSettings: async (name) => {
      const [policy, m, options] = optionsOf(name);
      return validateSettings(policy, m.settings, options);
    },
    validate: async (name) => {
      const [policy, m, options] = optionsOf(name);
      return validate(policy, setup.request, m.settings, options);
    },
  };
  const verdict = await validateGroupSettings(g, runner);
  if (!verdict.valid) return { ok: false, message: verdict.message ?? "" };
  const response = await evaluateGroup(g, setup.request.uid, runner);
  return { ok: true, response: applyPolicyConfiguration(response, { mode: g.mode, mutating: false, policyId: g.name }) };
}

/** A policy file's resources and their modules (pulled or read once each). */
export interface PolicyFile {
  path: string;
  definitions: PolicyDefinition[];
  modules: Map<string, LoadedPolicy>;
}

export async function loadPolicyFile(path: string, pull: PullOptions): Promise<PolicyFile> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as Error).message}`);
  }
  let definitions: PolicyDefinition[];
  try {
    definitions = parsePolicyDefinitions(text, path);
  } catch (e) {
    if (e instanceof PolicyDefinitionError) throw new UsageError(`${e.message}\n(run takes a module — a .wasm file or registry://… — or a file of Kubewarden policy resources)`);
    throw e;
  }
  return { path, definitions, modules: await loadModules(definitions, pull) };
}

export async function runPolicyFile({ path, definitions, modules }: PolicyFile, setup: RunSetup): Promise<number> {
  if (definitions.length > 1) console.error(`note: ${definitions.length} policies in ${path}: each is evaluated on the same request, one answer per line`);
  try {
    for (const d of definitions) {
      const outcome = "members" in d ? await evaluatePolicyGroup(d, modules, setup) : await evaluatePolicy(d, modules, setup);
      if (!outcome.ok) {
        console.error(terminalText(`Provided settings are not valid: ${outcome.message}`));
        return 1;
      }
      printResponse(setup, outcome.response);
    }
    return 0;
  } catch (e) {
    return engineError(e);
  }
}
