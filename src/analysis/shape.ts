/**
 * Structural problems in the parts of a pod spec the analysis reads.
 *
 * The API server never admits such objects, but manifests in CI and hand-made
 * requests can carry them; the policies then say precisely what is wrong instead
 * of silently finding nothing. Only Kubernetes' own type rules are checked, so a
 * valid object never has a problem here.
 */
import { PROBE_KINDS } from "./probes.js";

const NETWORK_HANDLERS = ["httpGet", "tcpSocket", "grpc"] as const;
const LISTS = ["containers", "initContainers"] as const;
const STRING_LISTS = ["command", "args"] as const;
import { isRecord, type PodTemplate } from "./workload.js";

const MAX_REPORTED = 5;

function typeName(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

/**
 * One problem, appended while fewer than MAX_REPORTED + 1 are known. Callers
 * build the path only when they report (`containerPath(…)` at the call site):
 * on valid objects (nearly all) the check allocates nothing and creates no
 * closures, which matters in QuickJS, where it runs on every container.
 */
function add(problems: string[], path: string, field: string, expected: string, got: unknown): void {
  if (problems.length < MAX_REPORTED + 1) problems.push(`${path}${field} must be ${expected}, got ${typeName(got)}`);
}

function isBad(v: unknown, type: "string" | "boolean"): boolean {
  return v !== undefined && v !== null && typeof v !== type;
}

function containerPath(base: string, list: string, index: number): string {
  return `${base}.${list}[${index}]`;
}

export function podSpecShapeProblems(template: PodTemplate): string[] {
  const problems: string[] = [];
  // Knative defaults container names and the serving container's probe port (knative.ts).
  const filled = template.controller === "knative-serving";
  const base = template.path.join(".");
  const spec = template.spec as unknown as Record<string, unknown>;
  if (isBad(spec.hostNetwork, "boolean")) add(problems, base, ".hostNetwork", "a boolean", spec.hostNetwork);
  for (let l = 0; l < LISTS.length; l++) {
    const listName = LISTS[l]!;
    const list = spec[listName];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) {
      add(problems, base, `.${listName}`, "a list", list);
      continue;
    }
    for (let j = 0; j < list.length; j++) {
      const c: unknown = list[j];
      if (isRecord(c)) checkContainer(problems, base, listName, j, c, filled);
      else add(problems, containerPath(base, listName, j), "", "an object", c);
    }
  }
  if (problems.length > MAX_REPORTED) return [...problems.slice(0, MAX_REPORTED), "…"];
  return problems;
}

function checkContainer(problems: string[], base: string, listName: string, j: number, c: Record<string, unknown>, filled: boolean): void {
  if (filled ? isBad(c.name, "string") : typeof c.name !== "string") add(problems, containerPath(base, listName, j), ".name", "a string", c.name);
  for (let f = 0; f < STRING_LISTS.length; f++) {
    const field = STRING_LISTS[f]!;
    const v = c[field];
    if (v === undefined || v === null) continue;
    if (!Array.isArray(v)) add(problems, containerPath(base, listName, j), `.${field}`, "a list of strings", v);
    else for (let k = 0; k < v.length; k++) if (typeof v[k] !== "string") add(problems, containerPath(base, listName, j), `.${field}[${k}]`, "a string", v[k]);
  }
  const env = c.env;
  if (env !== undefined && env !== null) {
    if (!Array.isArray(env)) add(problems, containerPath(base, listName, j), ".env", "a list", env);
    else
      for (let k = 0; k < env.length; k++) {
        const e: unknown = env[k];
        if (!isRecord(e)) add(problems, containerPath(base, listName, j), `.env[${k}]`, "an object", e);
        else {
          if (typeof e.name !== "string") add(problems, containerPath(base, listName, j), `.env[${k}].name`, "a string", e.name);
          if (isBad(e.value, "string")) add(problems, containerPath(base, listName, j), `.env[${k}].value`, "a string", e.value);
        }
      }
  }
  const ports = c.ports;
  if (ports !== undefined && ports !== null) {
    if (!Array.isArray(ports)) add(problems, containerPath(base, listName, j), ".ports", "a list", ports);
    else
      for (let k = 0; k < ports.length; k++) {
        const p: unknown = ports[k];
        if (!isRecord(p)) add(problems, containerPath(base, listName, j), `.ports[${k}]`, "an object", p);
        else {
          if (typeof p.containerPort !== "number") add(problems, containerPath(base, listName, j), `.ports[${k}].containerPort`, "a number", p.containerPort);
          if (isBad(p.name, "string")) add(problems, containerPath(base, listName, j), `.ports[${k}].name`, "a string", p.name);
        }
      }
  }
  for (let k = 0; k < PROBE_KINDS.length; k++) {
    const kind = PROBE_KINDS[k]!;
    const probe = c[kind];
    if (probe === undefined || probe === null) continue;
    if (!isRecord(probe)) {
      add(problems, containerPath(base, listName, j), `.${kind}`, "an object", probe);
      continue;
    }
    for (let n = 0; n < NETWORK_HANDLERS.length; n++) {
      const handler = NETWORK_HANDLERS[n]!;
      const h = probe[handler];
      if (h === undefined || h === null) continue;
      if (!isRecord(h)) add(problems, containerPath(base, listName, j), `.${kind}.${handler}`, "an object", h);
      else if (filled && handler !== "grpc" && (h.port === undefined || h.port === null)) continue;
      else if (handler === "grpc" ? typeof h.port !== "number" : typeof h.port !== "number" && typeof h.port !== "string")
        add(problems, containerPath(base, listName, j), `.${kind}.${handler}.port`, handler === "grpc" ? "a number" : "a number or a port name", h.port);
      else if (isBad(h.host, "string")) add(problems, containerPath(base, listName, j), `.${kind}.${handler}.host`, "a string", h.host);
    }
  }
}
