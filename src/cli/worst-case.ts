/**
 * Adversarial request shapes (issue 9): what an attacker who controls a whole
 * admission request can send to make a policy work hard or answer at length.
 * Each shape is grown to a target size in bytes, deterministically (no
 * randomness: the same knobs and size give the same bytes), so
 * `bench --worst-case` scales them to the API server's 3 MiB request limit and
 * tests/e2e/fuel-budget.test.ts draws knobs and sizes with fast-check.
 */

/** The API server refuses request bodies above 3 MiB. */
export const MAX_REQUEST_BYTES = 3 * 1024 * 1024;

/** What varies within a shape (fast-check draws these; `WORST_KNOBS` are the bench's). */
export interface ShapeKnobs {
  /** Characters in each container name (the index is appended). */
  nameLength: number;
  /** How the loopback bind address is spelled. */
  host: "127.0.0.1" | "localhost" | "[::1]" | "0x7f000001" | "127.1";
  /** Probes per probing container, 1–3 (liveness, readiness, startup). */
  probes: 1 | 2 | 3;
  /** The probe handler. */
  handler: "httpGet" | "tcpSocket" | "grpc";
  /** Depth of the `Vi=$(Vi-1)$(Vi-1)` chain, 1–40. */
  chainDepth: number;
  /** `*` pieces in the includeContainers pattern of `long-names-globs`. */
  stars: number;
  /** Array nesting of the filler field of `deep-nesting` (the input guard allows 512 for the whole request). */
  nesting: number;
  /** URLs in each URL list of `one-port-url-lists`. */
  urlsPerList: number;
}

export const WORST_KNOBS: ShapeKnobs = { nameLength: 40, host: "127.0.0.1", probes: 3, handler: "httpGet", chainDepth: 40, stars: 40, nesting: 400, urlsPerList: 50 };

export interface ShapeCase {
  shape: string;
  /** The validate payload, {"request": …, "settings": …}, as policy-server writes it to stdin. */
  stdin: Uint8Array;
  /** How many repeated units the size allowed (containers, URLs, …). */
  units: number;
}

interface Shape {
  name: string;
  /** One line for the bench's table and the test's log. */
  description: string;
  /** The object and settings for `units` repeated units. */
  build(units: number, knobs: ShapeKnobs): { object: unknown; settings?: unknown };
}

const PROBE_KINDS = ["livenessProbe", "readinessProbe", "startupProbe"] as const;

function probe(handler: ShapeKnobs["handler"], port: number): Record<string, unknown> {
  if (handler === "grpc") return { grpc: { port }, periodSeconds: 10 };
  if (handler === "tcpSocket") return { tcpSocket: { port }, periodSeconds: 10 };
  return { httpGet: { path: "/healthz", port }, periodSeconds: 10 };
}

function probes(knobs: ShapeKnobs, port: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < knobs.probes; i++) out[PROBE_KINDS[i]!] = probe(knobs.handler, port);
  return out;
}

const name = (knobs: ShapeKnobs, i: number) => `${"c".repeat(Math.max(1, knobs.nameLength))}${i}`;
const bind = (knobs: ShapeKnobs, port: number) => `--listen-address=${knobs.host}:${port}`;

function statefulSet(containers: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "worst", namespace: "worst" }, spec: { serviceName: "worst", template: { metadata: {}, spec: { containers, ...extra } } } };
}

const times = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

/** Every shape the adversarial suites and `bench --worst-case` know, by name. */
export const SHAPES: readonly Shape[] = [
  {
    name: "one-port-binds-probes",
    description: "containers all binding one port on loopback, each probing it",
    build: (n, k) => ({ object: statefulSet(times(n, (i) => ({ name: name(k, i), args: [bind(k, 8080)], ...probes(k, 8080) }))) }),
  },
  {
    name: "one-port-binds",
    description: "containers all binding one port on loopback, one probe",
    build: (n, k) => ({ object: statefulSet(times(Math.max(1, n), (i) => ({ name: name(k, i), args: [bind(k, 8080)], ...(i === 0 ? probes(k, 8080) : {}) }))) }),
  },
  {
    name: "one-port-probes",
    description: "one loopback bind, containers all probing its port",
    build: (n, k) => ({ object: statefulSet(times(Math.max(1, n), (i) => ({ name: name(k, i), ...(i === 0 ? { args: [bind(k, 8080)] } : {}), ...probes(k, 8080) }))) }),
  },
  {
    name: "url-list",
    description: "one --listen-client-urls flag listing loopback URLs",
    build: (n) => ({
      object: statefulSet([{ name: "etcd", args: [`--listen-client-urls=${times(Math.max(1, n), (i) => (i % 2 ? "http://127.0.0.1:2379" : "http://localhost:2379")).join(",")}`], livenessProbe: probe("httpGet", 2379) }]),
    }),
  },
  {
    name: "one-port-url-lists",
    description: "containers each listing loopback URLs of one port, each probing it",
    build: (n, k) => ({
      object: statefulSet(times(n, (i) => ({ name: name(k, i), args: [`--listen-client-urls=${times(k.urlsPerList, () => "http://127.0.0.1:2379").join(",")}`], ...probes(k, 2379) }))),
    }),
  },
  {
    name: "env-chains",
    description: "containers each expanding Vi=$(Vi-1)$(Vi-1) into the bind address",
    build: (n, k) => ({
      object: statefulSet(
        times(n, (i) => {
          const env = [{ name: "V0", value: `${k.host}:${9000 + (i % 100)}` }];
          for (let d = 1; d < k.chainDepth; d++) env.push({ name: `V${d}`, value: `$(V${d - 1})$(V${d - 1})` });
          env.push({ name: "LISTEN_ADDRESS", value: `$(V${k.chainDepth - 1})` });
          return { name: name(k, i), env, args: [`--listen-address=$(V${k.chainDepth - 1})`, `--web.listen-address=$(V0)`], ...probes(k, 9000 + (i % 100)) };
        }),
      ),
    }),
  },
  {
    name: "long-names-globs",
    description: "long container names against includeContainers patterns with many *",
    build: (n, k) => ({
      object: statefulSet(times(n, (i) => ({ name: `${"a".repeat(Math.max(1, k.nameLength))}${i % 2 ? "b" : "c"}${i}`, args: [bind(k, 8080)], ...probes(k, 8080) }))),
      settings: { includeContainers: [`${"*a".repeat(Math.max(1, k.stars))}*b*`, "*a*a*a*b", "*config*reloader*"], excludeContainers: [`${"*a".repeat(Math.max(1, k.stars))}*x`] },
    }),
  },
  {
    name: "many-probes",
    description: "containers each binding their own loopback port, every probe kind on it",
    build: (n, k) => ({ object: statefulSet(times(n, (i) => ({ name: name(k, i), args: [bind(k, 10000 + i)], ...probes({ ...k, probes: 3 }, 10000 + i) }))) }),
  },
  {
    name: "named-ports",
    description: "containers with 20 named ports each, probed by name (one name undeclared)",
    build: (n, k) => ({
      object: statefulSet(
        times(n, (i) => ({
          name: name(k, i),
          args: [bind(k, 20000)],
          ports: times(20, (p) => ({ name: `p${p}`, containerPort: 20000 + p })),
          livenessProbe: { httpGet: { path: "/", port: "p0" } },
          readinessProbe: { httpGet: { path: "/", port: "p19" } },
          startupProbe: { httpGet: { path: "/", port: "nope" } },
        })),
      ),
    }),
  },
  {
    name: "many-args",
    description: "one container with a long command line, the listen flag last",
    build: (n, k) => ({
      object: statefulSet([{ name: "app", args: [...times(Math.max(1, n), (i) => (i % 3 === 0 ? `-f${i}` : i % 3 === 1 ? `--flag-${i}=value-${i}` : `--listen-address=0.0.0.0:${i}`)), bind(k, 8080)], ...probes(k, 8080) }]),
    }),
  },
  {
    name: "deep-nesting",
    description: "containers each carrying a deeply nested field next to a loopback bind and probe",
    build: (n, k) => {
      const depth = Math.max(1, Math.min(k.nesting, 500));
      const nested = (i: number): unknown => {
        let v: unknown = i;
        for (let d = 0; d < depth; d++) v = [v];
        return v;
      };
      return { object: statefulSet(times(n, (i) => ({ name: name(k, i), args: [bind(k, 8080)], ...probes(k, 8080), "x-nested": nested(i) }))) };
    },
  },
  {
    name: "big-numbers",
    description: "containers with int64 and out-of-range numbers in fields the rewrite leaves alone",
    build: (n, k) => ({
      object: statefulSet(
        times(n, (i) => ({ name: name(k, i), args: [bind(k, 8080)], ...probes(k, 8080), securityContext: { runAsUser: BIG_NUMBER_MARK, runAsGroup: HUGE_NUMBER_MARK, "x-zero": NEGATIVE_ZERO_MARK } })),
        { terminationGracePeriodSeconds: BIG_NUMBER_MARK },
      ),
    }),
  },
];

/**
 * Numbers JSON.stringify cannot write (an int64 beyond 2^53, 1e400, -0): the
 * shape writes these marks, replaced in the request text by the numbers as
 * written, so the bytes carry them exactly.
 */
const BIG_NUMBER_MARK = "@@big@@";
const HUGE_NUMBER_MARK = "@@huge@@";
const NEGATIVE_ZERO_MARK = "@@negzero@@";
export const BIG_NUMBERS = { big: "9007199254740993", huge: "1e400", negativeZero: "-0" } as const;

export function shapeNamed(shapeName: string): Shape {
  const shape = SHAPES.find((s) => s.name === shapeName);
  if (!shape) throw new RangeError(`no shape ${shapeName}; shapes: ${SHAPES.map((s) => s.name).join(", ")}`);
  return shape;
}

function payload(shape: Shape, units: number, knobs: ShapeKnobs): string {
  const { object, settings } = shape.build(units, knobs);
  const request = {
    uid: "worst-case",
    kind: { group: "apps", version: "v1", kind: "StatefulSet" },
    resource: { group: "apps", version: "v1", resource: "statefulsets" },
    operation: "CREATE",
    userInfo: { username: "attacker" },
    object,
  };
  return JSON.stringify({ request, settings: settings ?? {} })
    .replaceAll(`"${BIG_NUMBER_MARK}"`, BIG_NUMBERS.big)
    .replaceAll(`"${HUGE_NUMBER_MARK}"`, BIG_NUMBERS.huge)
    .replaceAll(`"${NEGATIVE_ZERO_MARK}"`, BIG_NUMBERS.negativeZero);
}

const byteLength = (text: string) => new TextEncoder().encode(text).length;

/**
 * The shape grown to at most `targetBytes` of stdin (and at least one unit):
 * the unit count is estimated from two small builds, then lowered until the
 * payload fits.
 */
export function shapeCase(shapeName: string, targetBytes: number, knobs: ShapeKnobs = WORST_KNOBS): ShapeCase {
  const shape = shapeNamed(shapeName);
  const size = (units: number) => byteLength(payload(shape, units, knobs));
  const base = size(1);
  const perUnit = Math.max(1, (size(11) - base) / 10);
  let units = Math.max(1, 1 + Math.floor((targetBytes - base) / perUnit));
  let text = payload(shape, units, knobs);
  for (let bytes = byteLength(text); bytes > targetBytes && units > 1; bytes = byteLength(text)) {
    units = Math.max(1, units - Math.max(1, Math.ceil((bytes - targetBytes) / perUnit)));
    text = payload(shape, units, knobs);
  }
  return { shape: shape.name, stdin: new TextEncoder().encode(text), units };
}
