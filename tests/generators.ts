/**
 * fast-check generators for realistic workloads: every workload kind, every
 * listener spelling the analysis reads, every probe kind, named ports, $(VAR)
 * expansion, hostNetwork and native sidecars. Shared by the quick property
 * profile (npm test) and the long one (npm run fuzz).
 */
import fc from "fast-check";
import { POD_SPEC_PATHS } from "../src/analysis/workload.js";

const PORTS = [8080, 8081, 9090, 3000];
const PORT_NAMES = ["web", "metrics", "http"];
const HOSTS = ["127.0.0.1", "127.0.0.2", "127.1", "0x7f000001", "localhost", "[::1]", "::1", "0.0.0.0", "", "[::]", "$(POD_IP)", "$(BIND_HOST)", "10.1.2.3", "ip6-localhost", "::ffff:127.0.0.1"];
const FLAGS = ["listen-address", "web.listen-address", "http-address", "grpc-address", "metrics-bind-address", "health-probe-bind-address", "secure-listen-address", "addr", "bind", "listen"];
const IMAGES = ["quay.io/prometheus-operator/prometheus-config-reloader:v0.74.0", "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.13.0", "grafana/grafana:11", "example/app:1"];

const address = fc.record({ host: fc.constantFrom(...HOSTS), port: fc.constantFrom(...PORTS) }).map(({ host, port }) => {
  const h = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return `${h}:${port}`;
});

/** One listen setting spelled in one of the ways found in the wild, as command-line words. */
const listenArgs = fc.oneof(
  fc.tuple(fc.constantFrom(...FLAGS), address, fc.constantFrom("--{f}={v}", "--{f} {v}", "-{f}={v}", "-{f} {v}")).map(([f, v, style]) =>
    style.replace("{f}", f).replace("{v}", v).split(" "),
  ),
  fc.tuple(fc.constantFrom("127.0.0.1", "0.0.0.0", "localhost"), fc.constantFrom(...PORTS)).map(([h, p]) => [`--host=${h}`, `--port=${p}`]),
  fc.constantFrom(...PORTS).map((p) => [`--listen-metrics-urls=http://127.0.0.1:${p}`]),
  fc.constant(["--upstream=http://127.0.0.1:8080/"]),
  fc.constant(["--", "--listen-address=127.0.0.1:8080"]),
  fc.constant(["--verbose"]),
);

const envVars = fc.oneof(
  fc.constant([{ name: "BIND_HOST", value: "127.0.0.1" }]),
  fc.constant([{ name: "BIND_HOST", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } }]),
  fc.constantFrom(...PORTS).map((p) => [{ name: "GF_SERVER_HTTP_ADDR", value: "127.0.0.1" }, { name: "GF_SERVER_HTTP_PORT", value: String(p) }]),
  fc.constantFrom(...PORTS).map((p) => [{ name: "LISTEN_ADDRESS", value: `localhost:${p}` }]),
  fc.constant([] as unknown[]),
);

/** Ways a script quotes a word (each reads back as the word). */
const QUOTINGS: ((word: string) => string)[] = [
  (w) => `'${w}'`,
  (w) => `"${w}"`,
  (w) => w.replace(/([.:=])/g, "\\$1"),
  (w) => `$'${w}'`,
  (w) => w.replace(/([0-9])([0-9])/, "$1''$2"),
];

/** A container command running `/app ARGS` through a script or wrappers. */
const SCRIPT_FORMS: ((quoted: string[], args: string[]) => Record<string, unknown>)[] = [
  (q) => ({ command: ["/bin/sh", "-c", `exec /app ${q.join(" ")}`] }),
  (q) => ({ command: ["bash", "-euo", "pipefail", "-c", `set -e\nmkdir -p /data && exec /app ${q.join(" ")}`] }),
  (q) => ({ command: ["sh", "-c", `/app ${q.join(" ")}; echo exited`] }),
  (q) => ({ command: ["sh", "-c", `while true; do /app ${q.join(" ")}; sleep 1; done`] }),
  (q) => ({ command: ["sh", "-c", `main() { exec /app "$@"; }\nmain ${q.join(" ")}`] }),
  (q) => ({ command: ["sh", "-c", `if [ "$MODE" = debug ]; then exec /app --v=9; fi\nexec /app ${q.join(" ")}`], env: [{ name: "MODE", value: "prod" }] }),
  (q) => ({ command: ["sh", "-c", `export OPTS=${q.join(" ").replace(/[' ]/g, "")}\nexec /app "$@"`, "sh", ...q.map((w) => w.replace(/^'|'$/g, ""))] }),
  (_q, args) => ({ command: ["tini", "-e", "143", "--", "dumb-init", "--rewrite", "15:2", "/app"], args }),
  (_q, args) => ({ command: ["env", "-u", "HOME", "timeout", "-s", "KILL", "1d", "/app"], args }),
  (_q, args) => ({ command: ["su-exec", "app", "nice", "-n", "5", "/app", ...args] }),
];

const timing = fc.record(
  { initialDelaySeconds: fc.nat(30), timeoutSeconds: fc.integer({ min: 1, max: 10 }), periodSeconds: fc.integer({ min: 1, max: 60 }), successThreshold: fc.constant(1), failureThreshold: fc.integer({ min: 1, max: 10 }) },
  { requiredKeys: [] },
);
const probePort = fc.oneof(fc.constantFrom(...PORTS), fc.constantFrom(...PORT_NAMES));
const probe = fc.tuple(
  fc.oneof(
    fc.record(
      {
        path: fc.constantFrom("/healthz", "/-/ready", "/ready?x=1&y"),
        port: probePort,
        scheme: fc.constantFrom("HTTP", "HTTPS"),
        host: fc.constantFrom("127.0.0.1", "localhost", "10.0.0.9"),
        httpHeaders: fc.constant([{ name: "X-Probe", value: "it's me" }]),
      },
      { requiredKeys: ["port"] },
    ).map((httpGet) => ({ httpGet })),
    fc.record({ port: probePort, host: fc.constantFrom("127.0.0.1", "localhost") }, { requiredKeys: ["port"] }).map((tcpSocket) => ({ tcpSocket })),
    fc.constantFrom(...PORTS).map((port) => ({ grpc: { port } })),
    fc.constant({ exec: { command: ["sh", "-c", "true"] } }),
  ),
  timing,
).map(([handler, t]) => ({ ...handler, ...t }));

const container = (name: string) =>
  fc
    .record(
      {
        image: fc.constantFrom(...IMAGES),
        args: fc.array(listenArgs, { maxLength: 3 }).map((a) => a.flat()),
        env: envVars,
        ports: fc.subarray(PORT_NAMES).chain((names) => fc.tuple(...names.map((n) => fc.constantFrom(...PORTS).map((containerPort) => ({ name: n, containerPort }))))),
        livenessProbe: probe,
        readinessProbe: probe,
        startupProbe: probe,
      },
      { requiredKeys: ["image"] },
    )
    .chain((c) =>
      // Sometimes the same command line behind a shell script or wrappers, in one of the
      // idioms the shell model reads (tests/cases/shell-families.yml has them all).
      fc.tuple(fc.nat(SCRIPT_FORMS.length), fc.nat(QUOTINGS.length - 1)).map(([form, quoting]) => {
        if (form === SCRIPT_FORMS.length || !c.args) return { name, ...c };
        const { args, ...rest } = c;
        return { name, ...rest, ...SCRIPT_FORMS[form]!(args.map(QUOTINGS[quoting]!), args) };
      }),
    );

export const podSpec = fc
  .record(
    {
      containers: fc.integer({ min: 1, max: 3 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => container(`c${i}`)))),
      initContainers: fc.option(
        fc.tuple(container("sidecar"), fc.constantFrom("Always", undefined)).map(([c, restartPolicy]) => [restartPolicy ? { ...c, restartPolicy } : c]),
        { nil: undefined },
      ),
      hostNetwork: fc.option(fc.boolean(), { nil: undefined }),
    },
    { requiredKeys: ["containers"] },
  )
  .map((spec) => JSON.parse(JSON.stringify(spec)) as Record<string, unknown>);

/** A workload of any supported kind wrapping a generated pod spec. */
export const workload = fc.tuple(fc.constantFrom(...Object.keys(POD_SPEC_PATHS)), podSpec).map(([kind, spec]) => {
  const path = POD_SPEC_PATHS[kind]!;
  const object: Record<string, unknown> = { apiVersion: "v1", kind, metadata: { name: "w", namespace: "ns" } };
  let node = object;
  for (const seg of path.slice(0, -1)) {
    node[seg] = {};
    node = node[seg] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = spec;
  return object;
});

/** Runs per property: a quick profile by default, FUZZ_RUNS for the long one. */
export const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
/** The seed: FUZZ_SEED to replay a run, else a fresh one (printed by the property tests). */
export const SEED = process.env.FUZZ_SEED === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.FUZZ_SEED);
