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

export function podSpecShapeProblems(template: PodTemplate): string[] {
  const problems: string[] = [];
  const base = template.path.join(".");
  const add = (path: string, expected: string, got: unknown) => {
    if (problems.length < MAX_REPORTED + 1) problems.push(`${path} must be ${expected}, got ${typeName(got)}`);
  };
  const spec = template.spec as unknown as Record<string, unknown>;
  if (spec.hostNetwork !== undefined && spec.hostNetwork !== null && typeof spec.hostNetwork !== "boolean") add(`${base}.hostNetwork`, "a boolean", spec.hostNetwork);

  for (const listName of LISTS) {
    const list = spec[listName];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) {
      add(`${base}.${listName}`, "a list", list);
      continue;
    }
    list.forEach((c: unknown, i) => {
      const at = `${base}.${listName}[${i}]`;
      if (!isRecord(c)) return add(at, "an object", c);
      if (typeof c.name !== "string") add(`${at}.name`, "a string", c.name);
      for (const field of STRING_LISTS) {
        const v = c[field];
        if (v === undefined || v === null) continue;
        if (!Array.isArray(v)) add(`${at}.${field}`, "a list of strings", v);
        else for (let j = 0; j < v.length; j++) if (typeof v[j] !== "string") add(`${at}.${field}[${j}]`, "a string", v[j]);
      }
      if (c.env !== undefined && c.env !== null) {
        if (!Array.isArray(c.env)) add(`${at}.env`, "a list", c.env);
        else
          c.env.forEach((e: unknown, j) => {
            if (!isRecord(e)) return add(`${at}.env[${j}]`, "an object", e);
            if (typeof e.name !== "string") add(`${at}.env[${j}].name`, "a string", e.name);
            if (e.value !== undefined && e.value !== null && typeof e.value !== "string") add(`${at}.env[${j}].value`, "a string", e.value);
          });
      }
      if (c.ports !== undefined && c.ports !== null) {
        if (!Array.isArray(c.ports)) add(`${at}.ports`, "a list", c.ports);
        else
          c.ports.forEach((p: unknown, j) => {
            if (!isRecord(p)) return add(`${at}.ports[${j}]`, "an object", p);
            if (typeof p.containerPort !== "number") add(`${at}.ports[${j}].containerPort`, "a number", p.containerPort);
            if (p.name !== undefined && p.name !== null && typeof p.name !== "string") add(`${at}.ports[${j}].name`, "a string", p.name);
          });
      }
      for (const kind of PROBE_KINDS) {
        const probe = c[kind];
        if (probe === undefined || probe === null) continue;
        if (!isRecord(probe)) {
          add(`${at}.${kind}`, "an object", probe);
          continue;
        }
        for (const handler of NETWORK_HANDLERS) {
          const h = probe[handler];
          if (h === undefined || h === null) continue;
          if (!isRecord(h)) add(`${at}.${kind}.${handler}`, "an object", h);
          else if (handler === "grpc" ? typeof h.port !== "number" : typeof h.port !== "number" && typeof h.port !== "string")
            add(`${at}.${kind}.${handler}.port`, handler === "grpc" ? "a number" : "a number or a port name", h.port);
          else if (h.host !== undefined && h.host !== null && typeof h.host !== "string") add(`${at}.${kind}.${handler}.host`, "a string", h.host);
        }
      }
    });
  }
  if (problems.length > MAX_REPORTED) return [...problems.slice(0, MAX_REPORTED), "…"];
  return problems;
}
