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
 * Paths are built only when a problem is reported: on valid objects (nearly
 * all) the check then allocates nothing, which matters in QuickJS.
 */
type Path = () => string;

export function podSpecShapeProblems(template: PodTemplate): string[] {
  const problems: string[] = [];
  const base = template.path.join(".");
  const add = (path: Path, field: string, expected: string, got: unknown) => {
    if (problems.length < MAX_REPORTED + 1) problems.push(`${path()}${field} must be ${expected}, got ${typeName(got)}`);
  };
  const optional = (path: Path, field: string, v: unknown, type: "string" | "boolean", expected: string) => {
    if (v !== undefined && v !== null && typeof v !== type) add(path, field, expected, v);
  };
  /** An optional list whose items must be objects; `check` looks inside each one. */
  const eachObject = (path: Path, field: string, list: unknown, check: (item: Record<string, unknown>, at: Path) => void) => {
    if (list === undefined || list === null) return;
    if (!Array.isArray(list)) return add(path, field, "a list", list);
    for (let j = 0; j < list.length; j++) {
      const item: unknown = list[j];
      const at = () => `${path()}${field}[${j}]`;
      if (isRecord(item)) check(item, at);
      else add(at, "", "an object", item);
    }
  };

  const spec = template.spec as unknown as Record<string, unknown>;
  const root = () => base;
  optional(root, ".hostNetwork", spec.hostNetwork, "boolean", "a boolean");
  for (let l = 0; l < LISTS.length; l++) {
    const listName = LISTS[l]!;
    eachObject(root, `.${listName}`, spec[listName], (c, at) => {
      if (typeof c.name !== "string") add(at, ".name", "a string", c.name);
      for (let f = 0; f < STRING_LISTS.length; f++) {
        const field = STRING_LISTS[f]!;
        const v = c[field];
        if (v === undefined || v === null) continue;
        if (!Array.isArray(v)) add(at, `.${field}`, "a list of strings", v);
        else for (let j = 0; j < v.length; j++) if (typeof v[j] !== "string") add(at, `.${field}[${j}]`, "a string", v[j]);
      }
      eachObject(at, ".env", c.env, (e, eAt) => {
        if (typeof e.name !== "string") add(eAt, ".name", "a string", e.name);
        optional(eAt, ".value", e.value, "string", "a string");
      });
      eachObject(at, ".ports", c.ports, (p, pAt) => {
        if (typeof p.containerPort !== "number") add(pAt, ".containerPort", "a number", p.containerPort);
        optional(pAt, ".name", p.name, "string", "a string");
      });
      for (let k = 0; k < PROBE_KINDS.length; k++) {
        const kind = PROBE_KINDS[k]!;
        const probe = c[kind];
        if (probe === undefined || probe === null) continue;
        if (!isRecord(probe)) {
          add(at, `.${kind}`, "an object", probe);
          continue;
        }
        for (let n = 0; n < NETWORK_HANDLERS.length; n++) {
          const handler = NETWORK_HANDLERS[n]!;
          const h = probe[handler];
          if (h === undefined || h === null) continue;
          if (!isRecord(h)) add(at, `.${kind}.${handler}`, "an object", h);
          else if (handler === "grpc" ? typeof h.port !== "number" : typeof h.port !== "number" && typeof h.port !== "string")
            add(at, `.${kind}.${handler}.port`, handler === "grpc" ? "a number" : "a number or a port name", h.port);
          else optional(at, `.${kind}.${handler}.host`, h.host, "string", "a string");
        }
      }
    });
  }
  if (problems.length > MAX_REPORTED) return [...problems.slice(0, MAX_REPORTED), "…"];
  return problems;
}
