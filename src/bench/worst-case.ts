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

/** The shapes of issue 9 (binds, probes, URL lists, expansion, names, numbers). */
const BASE_SHAPES: readonly Shape[] = [
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

/** A dense line of shell: every construct the model reads, several per byte. */
const SHELL_LINES = [
  'a&&b||c|d;e&',
  'if [ "$X" = 1 ];then a;elif b;then c;else d;fi',
  'while :;do a $V;break;done',
  'for i in a b $V;do f $i;done',
  'case $X in a|b*)x;;*)y;&esac',
  'f(){ a "$@";g;};g(){ f;};f',
  'A=$(b $(c))${D:-e}${E#*:}',
  'export A=1 B="$C" D=(e f)',
  `eval 'a;b' "c $D"`,
  'exec 2>&1;{ a;}|(b)',
  "sh -c 'a $1' x y;env -u A b",
  "tini -e 1 -- nice -n 1 a",
  '[[ -n $A && $B == c* ]]&&d',
  'cat <<E\n$X\nE\na',
];

/** Deterministic pseudo-random numbers (mulberry32) for the random shell shape. */
function pseudoRandom(seed: number): () => number {
  let state = seed | 0;
  return () => {
    let t = (state = (state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The container every shell shape puts first: bound only on loopback and probed, so the pod is read. */
const brokenFirst = (k: ShapeKnobs) => ({ name: "broken", args: [bind(k, 8080)], ...probes(k, 8080) });

/** Shapes that make the shell model work: each grows its scripts, containers or chains with the size. */
const SHELL_SHAPES: readonly Shape[] = [
  {
    name: "shell-field-splitting",
    description: "sidecars field-splitting a $(VAR)-doubled env var, `sh -c \"exec sleep 1d $V $V …\"` (issue 21), beside a broken container",
    build: (n, k) => {
      // 12 doublings of 15 characters: ~61,000 characters, just under the 64 Ki a value may have.
      const depth = Math.max(2, Math.min(k.chainDepth, 12));
      const env = [{ name: "V0", value: "a b c d e f g h" }];
      for (let d = 1; d < depth; d++) env.push({ name: `V${d}`, value: `$(V${d - 1}) $(V${d - 1})` });
      env.push({ name: "V", value: `$(V${depth - 1})` });
      const script = `exec sleep 1d ${times(32, () => "$V").join(" ")}`;
      return { object: statefulSet([brokenFirst(k), ...times(n, (i) => ({ name: name(k, i), env, command: ["sh", "-c", script] }))]) };
    },
  },
  {
    name: "shell-dense-script",
    description: "one container whose script is every construct the shell model reads, back to back",
    build: (n, k) => ({
      object: statefulSet([brokenFirst(k), { name: "script", env: [{ name: "X", value: "1" }], command: ["bash", "-c", times(Math.max(1, n), (i) => SHELL_LINES[i % SHELL_LINES.length]!).join("\n")] }]),
    }),
  },
  {
    name: "shell-tiny-scripts",
    description: "containers each running a tiny script (the fixed cost of reading a shell)",
    build: (n, k) => ({ object: statefulSet([brokenFirst(k), ...times(n, (i) => ({ name: `s${i}`, command: ["sh", "-c", "a&&b|c"] }))]) }),
  },
  {
    name: "shell-random-scripts",
    description: "containers with scripts drawn from the constructs at random (seeded by the stars knob)",
    build: (n, k) => {
      const next = pseudoRandom(k.stars * 7919 + n);
      const script = () => times(1 + Math.floor(next() * 12), () => SHELL_LINES[Math.floor(next() * SHELL_LINES.length)]!).join(next() < 0.5 ? ";" : "\n");
      return { object: statefulSet([brokenFirst(k), ...times(n, (i) => ({ name: `r${i}`, env: [{ name: "V", value: "x y" }], command: ["bash", "-c", script()] }))]) };
    },
  },
  {
    name: "shell-doubling",
    description: "a script doubling its own variable, then field-splitting it",
    build: (n, k) => ({
      object: statefulSet([brokenFirst(k), { name: "double", command: ["sh", "-c", `V=a\n${times(Math.max(1, n), () => 'V="$V $V"').join("\n")}\nexec app $V $V`] }]),
    }),
  },
  {
    name: "shell-functions",
    description: "functions each calling the previous one twice",
    build: (n, k) => ({
      object: statefulSet([brokenFirst(k), { name: "calls", command: ["sh", "-c", `f0(){ app; }\n${times(Math.max(1, n), (i) => `f${i + 1}(){ f${i};f${i}; }`).join("\n")}\nf${Math.max(1, n)}`] }]),
    }),
  },
  {
    name: "shell-nesting",
    description: "scripts nesting if/while/case/$( ) as deep as the nesting knob allows",
    build: (n, k) => {
      const depth = Math.max(1, Math.min(k.nesting, 60));
      const open = ["if a;then ", "while b;do ", "case $X in x)", "{ ", "( ", "echo $("];
      const close = [";fi", ";done", ";;esac", ";}", ")", ")"];
      const script = times(depth, (d) => open[d % open.length]).join("") + "app" + times(depth, (d) => close[(depth - 1 - d) % close.length]).join("");
      return { object: statefulSet([brokenFirst(k), ...times(n, (i) => ({ name: `n${i}`, command: ["bash", "-c", script] }))]) };
    },
  },
  {
    name: "wrapper-chains",
    description: "containers running long chains of wrappers with value options",
    build: (n, k) => ({
      object: statefulSet([
        brokenFirst(k),
        ...times(n, (i) => ({ name: `w${i}`, command: times(40, () => ["tini", "-e", "1", "--", "env", "-u", "A", "B=1", "timeout", "-s", "KILL", "1d", "nice", "-n", "1"]).flat().concat(["app"]) })),
      ]),
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

/** Every shape the adversarial suites and `bench --worst-case` know, by name. */
export const SHAPES: readonly Shape[] = [...BASE_SHAPES, ...SHELL_SHAPES];

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
