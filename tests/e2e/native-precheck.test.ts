/**
 * Soundness of the native pre-check: every policy module that declares one is
 * also built with it forced off (`<name>.no-precheck.wasm`, see
 * tests/setup/build-modules.ts), and both must write byte-identical answers for
 * every input: the policies' test_data, hostile byte-level inputs, generated
 * workloads with mutations aimed at the pre-check's rules (triggers spelled
 * every way, escapes, wrong types, duplicate keys, broken JSON) and every
 * workload of ../shared/corpus. A second check proves the pre-check does fire:
 * without that, "identical answers" would hold vacuously.
 */
import fc from "fast-check";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SKIP_CONTAINERS_ANNOTATION } from "../../src/analysis/opt-out.js";
import { MAX_CHECKED_CONTAINERS } from "../../src/analysis/reachability.js";
import { podTemplateOf } from "../../src/analysis/workload.js";
import { readManifestsParallel } from "../../src/audit/read-parallel.js";
import { compileModule, runWasi } from "../../src/toolchain/wasi-runner.js";
import { runWasmtime } from "../../src/toolchain/wasmtime-runner.js";
import { RUNS, SEED, workload } from "../generators.js";
import { podRequest, ROOT, runBothEngines, wasmBytes } from "../helpers.js";
import { caseRequest as programCaseRequest, programCases } from "../support/program-cases.js";
import { caseRequest, shellCases } from "../support/shell-cases.js";

const POLICIES = ["reject-loopback-probes", "rewrite-loopback-probes"] as const;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface Pair {
  name: string;
  on: Uint8Array;
  off: WebAssembly.Module;
}

const pairs: Pair[] = await Promise.all(
  POLICIES.map(async (name) => ({
    name,
    on: wasmBytes(name),
    off: await compileModule(wasmBytes(`${name}.no-precheck`)),
  })),
);

let compared = 0;

/** The long profile (npm run fuzz, 100,000 cases) compares under node:wasi only; the quick one under both engines too. */
const GENERATED_ENGINES = RUNS > 1000 ? "node" : "both";

/**
 * Run both builds of every policy on the same stdin; the answers must be identical
 * bytes. The pre-check build runs under both engines (node:wasi and wasmtime must
 * agree too: the pre-check reads stdin natively, through each engine's WASI).
 */
async function expectSameAnswers(stdin: Uint8Array | string, label: string, action = "validate", engines: "both" | "node" = "both"): Promise<void> {
  const bytes = typeof stdin === "string" ? encoder.encode(stdin) : stdin;
  // Every policy's runs started together: the wasmtime runs (its own process) go on while node:wasi runs here.
  const runs = await Promise.all(
    pairs.map(async (pair) => {
      const on = engines === "both" ? runBothEngines(pair.on, action, bytes) : compileModule(pair.on).then((m) => runWasi(m, action, bytes));
      return { pair, results: await Promise.all([on, runWasi(pair.off, action, bytes)]) };
    }),
  );
  for (const { pair, results: [on, off] } of runs) {
    const [a, b] = [decoder.decode(on.stdout), decoder.decode(off.stdout)];
    if (a !== b || on.exitCode !== off.exitCode)
      throw new Error(`${pair.name}: pre-check changes the answer for ${label}\n  stdin: ${decoder.decode(bytes).slice(0, 400)}\n  on:  ${a.slice(0, 300)}\n  off: ${b.slice(0, 300)}`);
    expect(on.exitCode).toBe(0);
    compared++;
  }
}

const request = (object: unknown, extra: Record<string, unknown> = {}) => ({ request: podRequest(object), settings: {}, ...extra });

// --- mutations aimed at the rules ---------------------------------------------------------

/** Texts that spell (or nearly spell) a loopback host, an expansion or an escape, for scanned strings. */
const SPELLINGS = [
  "127.0.0.1:8080", "1'2'7.0.0.1:8080", "127.1:80", "0x7f000001:80", "0X7F.1:80", "2130706433:80", "0177.0.0.1:80",
  "[::1]:80", "::1", "0:0:0:0:0:0:0:1", "::ffff:7f00:1", "LOCALHOST:80", "LocalHost.:80", "ip6-localhost", "ip6-loopback",
  "$(HOST):80", "${HOST}:80", "%31%32%37.0.0.1", "12`7`.0.0.1", "128.0.0.1:80", "0.0.0.0:80", "10.0.0.1:127", "local host",
  "\u00a0127.0.0.1", "12\u00e97", "1234567890", "123456789", "a:b:c:d:e:f:g", "a:b:c:d:e:f",
  // Shell spellings the shell model reads as 127.0.0.1 (backslashes, quotes, line continuations, $'…').
  "1\\27.0.0.1:8080", '1""27.0.0.1:8080', "1''27.0.0.1", "12\\\n7.0.0.1:8080", "$'\\x31\\x32\\x37'.0.0.1", "${H:-127.0.0.1}:80", "12\t7.0.0.1",
];
const WEIRD_VALUES: unknown[] = [null, true, 0, 1, 65535, 65536, -1, 8080.5, 1e3, "8080", "http", "", [], {}, ["x"], [1], [{}], { port: 1 }];
const RULE_KEYS = ["hostNetwork", "containers", "initContainers", "name", "command", "args", "env", "value", "ports", "containerPort", "livenessProbe", "readinessProbe", "startupProbe", "httpGet", "tcpSocket", "grpc", "port", "host", "request", "settings", "object", "kind"];

/** Walk an object and, at random, replace values, drop keys, or push spellings into strings. */
/** A small seeded PRNG (mulberry32), so each generated case replays from its fast-check seed. */
class Rng {
  constructor(private state: number) {}
  /** An integer in [min, max]. */
  nextInt(min: number, max: number): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return min + (((t ^ (t >>> 14)) >>> 0) % (max - min + 1));
  }
}

function mutateObject(value: unknown, rng: Rng, depth = 0): unknown {
  if (Array.isArray(value)) return value.map((v) => mutateObject(v, rng, depth + 1));
  if (typeof value === "string") return rng.nextInt(0, 9) === 0 ? value + SPELLINGS[rng.nextInt(0, SPELLINGS.length - 1)]! : value;
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const roll = rng.nextInt(0, 39);
    if (roll === 0 && RULE_KEYS.includes(k)) continue; // a required key goes missing
    if (roll === 1 && RULE_KEYS.includes(k)) out[k] = WEIRD_VALUES[rng.nextInt(0, WEIRD_VALUES.length - 1)];
    else out[k] = mutateObject(v, rng, depth + 1);
  }
  if (rng.nextInt(0, 29) === 0) out[RULE_KEYS[rng.nextInt(0, RULE_KEYS.length - 1)]!] = WEIRD_VALUES[rng.nextInt(0, WEIRD_VALUES.length - 1)];
  return out;
}

/** Byte-level edits of the JSON text: escapes in keys, duplicate keys, whitespace, broken syntax, raw bytes. */
const TEXT_EDITS: ((text: string, at: number) => string)[] = [
  (t, at) => t.slice(0, at) + " \t\r\n" + t.slice(at),
  (t, at) => t.slice(0, at) + t.slice(at + 1),
  (t, at) => t.slice(0, at) + "," + t.slice(at),
  (t, at) => t.slice(0, at) + "}" + t.slice(at),
  (t) => t.replace(/"port":/, '"po\\u0072t":'),
  (t) => t.replace(/"name":/, '"n\\u0061me":'),
  (t) => t.replace(/"args":/, '"ar\\/gs":'),
  // An opt-out annotation key spelled with an escaped slash: JSON.parse reads it as the key.
  (t) => t.replace(/"metadata":\{/, `"metadata":{"annotations":{"${SKIP_CONTAINERS_ANNOTATION.replace("/", "\\/")}":"*"},`),
  (t) => t.replace(/"containers":\[/, '"containers":5,"containers":['),
  (t) => t.replace(/"containers":\[/, '"containers":[],"containers":['),
  (t) => t.replace(/"port":(\d+)/, '"port":"$1"'),
  (t) => t.replace(/"port":(\d+)/, '"port":$1.0'),
  (t) => t.replace(/"port":(\d+)/, '"port":0$1'),
  (t) => t.replace(/"port":(\d+)/, '"port":-$1'),
  (t) => t.replace(/"port":(\d+)/, '"port":$1e0'),
  (t) => t.replace(/"port":(\d+)/, '"port":"http"'),
  (t) => t.replace(/"grpc":\{"port":\d+/, '"grpc":{"port":"http"'),
  (t) => t.replace(/"port":"([a-z][a-z0-9-]*)"/, '"port":"$1x"'),
  (t) => t.replace(/"port":"([a-z][a-z0-9-]*)"/, '"port":"\\u0068ttp"'),
  (t) => t.replace(/"ports":\[/, '"ports":[],"ports":['),
  (t) => t.replace(/"ports":\[\{/, '"ports":[{"name":"http","name":"x",'),
  (t) => t.replace(/"ports":\[\{/, '"ports":[{"name":"x","name":"http",'),
  (t) => t.replace(/"livenessProbe":\{/, '"livenessProbe":{"ports":[{"name":"http","containerPort":1}],'),
  (t) => t.replace(/--([a-z.-]+)=/, "--$1=\\u0031\\u0032\\u0037."),
  (t) => t.replace(/--([a-z.-]+)=/, "--$1=12\\n7."),
  (t) => t.replace(/"settings":\{\}/, '"settings":{"includeContainers":[]}'),
  (t) => t.replace(/"settings":\{\}/, '"settings":null'),
  (t) => t.replace(/"settings":\{\}/, '"settings":[]'),
  (t) => t.replace(/"settings":\{\}/, '"settings":{ }'),
  (t) => "\ufeff" + t,
  (t) => t + " ",
  (t) => t + "x",
  (t) => t.replace(/true/, "tru"),
  (t) => t.replace(/"kind":"[A-Za-z]+"/, '"kind":"__proto__"'),
  (t) => t.replace(/"kind":"[A-Za-z]+"/, '"kind":"toString"'),
  // Without network probes, triggers count for nothing: disarm every probe, or all but one.
  (t) => t.replace(/"(httpGet|tcpSocket|grpc)":/g, '"x$1":'),
  (t) => t.replace(/"(httpGet|tcpSocket|grpc)":/g, (m, k: string, at: number) => (at === t.lastIndexOf(`"${k}":`) ? m : `"x${k}":`)),
];

const mutatedRequest = fc.tuple(workload, fc.integer({ min: 0, max: 3 }), fc.array(fc.tuple(fc.nat(TEXT_EDITS.length - 1), fc.nat()), { maxLength: 2 }), fc.integer())
  .map(([object, objectEdits, textEdits, seed]) => {
    const rng = new Rng(seed);
    let value: unknown = request(object);
    for (let i = 0; i < objectEdits; i++) value = mutateObject(value, rng);
    let text = JSON.stringify(value);
    for (const [edit, at] of textEdits) text = TEXT_EDITS[edit]!(text, at % Math.max(1, text.length));
    return text;
  });

describe("native pre-check: identical answers with it on and off", () => {
  it("for every test_data request of every policy, in three serialisations", async () => {
    for (const policy of POLICIES) {
      const dir = join(ROOT, "policies", policy, "test_data");
      for (const file of readdirSync(dir).filter((f) => f.endsWith(".json"))) {
        const req = JSON.parse(readFileSync(join(dir, file), "utf8")) as unknown;
        await expectSameAnswers(JSON.stringify({ request: req, settings: {} }), `${policy}/${file}`);
        await expectSameAnswers(JSON.stringify({ request: req }, null, 2), `${policy}/${file} (pretty, no settings)`);
        await expectSameAnswers(JSON.stringify({ request: req, settings: { excludeContainers: ["x"] } }), `${policy}/${file} (settings)`);
      }
    }
  });

  it("for every program knowledge case (programs.yml), in two serialisations", async () => {
    const cases = programCases();
    for (const [i, c] of cases.entries()) {
      const req = programCaseRequest(c, i);
      await expectSameAnswers(JSON.stringify({ request: req, settings: {} }), `programs.yml: ${c.title}`);
      await expectSameAnswers(JSON.stringify({ request: req }, null, 2), `programs.yml: ${c.title} (pretty)`);
    }
    expect(cases.length).toBeGreaterThan(80);
  });

  it("for workloads whose only loopback is a program's or an image's default (the knowledge base's names arm the pre-check)", async () => {
    const deployment = (container: Record<string, unknown>) =>
      JSON.stringify(request({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d", namespace: "n" }, spec: { template: { spec: { containers: [container] } } } }));
    const cases: [string, string, boolean][] = [
      ["uvicorn", deployment({ name: "a", image: "example/api:1", command: ["uvicorn", "main:app"], readinessProbe: { httpGet: { port: 8000 } } }), true],
      ["an image whose entrypoint binds loopback", deployment({ name: "a", image: "grafana/synthetic-monitoring-agent:v0.29.2", livenessProbe: { httpGet: { port: 4050 } } }), true],
      ["the kubelet", deployment({ name: "a", image: "example/node:1", command: ["kubelet"], livenessProbe: { httpGet: { port: 10248 } } }), true],
      ["Django", deployment({ name: "a", image: "example/web:1", command: ["python", "manage.py", "runserver"], livenessProbe: { tcpSocket: { port: 8000 } } }), true],
      ["a quoted name", deployment({ name: "a", image: "example/web:1", command: ["sh", "-c", "exec u'vic'orn main:app"], livenessProbe: { tcpSocket: { port: 8000 } } }), true],
      ["none of them", deployment({ name: "a", image: "example/web:1", command: ["/app", "--listen-address=:8000"], livenessProbe: { tcpSocket: { port: 8000 } } }), false],
    ];
    for (const [label, text] of cases) await expectSameAnswers(text, `defaults: ${label}`);
    for (const [label, text, finding] of cases) {
      const on = await runWasmtime(wasmBytes("reject-loopback-probes"), "validate", encoder.encode(text), { fuel: true });
      if (finding) expect(decoder.decode(on.stdout), label).toMatch(/bound only on loopback/);
      else expect(decoder.decode(on.stdout), label).toBe('{"accepted":true}');
    }
  });

  it("for hostile and malformed input", async () => {
    const inputs: (string | Uint8Array)[] = [
      "", " ", "{}", "[]", "null", '{"request":{}}', '{"request":[]}', '{"request":{},"request":5}', '{"request":{}}x', '{"request":{}} {}',
      '{"settings":{},"request":{"object":{"kind":"Pod","spec":{}}}}', '{"request":{"object":5}}', '{"request":{"object":null}}',
      '{"request":{"object":{"kind":"Pod","spec":{"containers":[{"name":"a","ports":[{"name":"p"}]}]}}}}',
      '{"request":{"object":{"kind":"Pod","spec":{"containers":[{"name":"a","livenessProbe":{"httpGet":{}}}]}}}}',
      '{"request":{"object":{"kind":"Pod","spec":{"containers":[{"name":"a","livenessProbe":{"httpGet":{"port":80,"host":"127.0.0.1"}}}]}}}}',
      '{"request":{"object":{"kind":"Pod","spec":{"containers":[{"name":"a","args":["--listen-address=127.0.0.1:80"],"livenessProbe":{"tcpSocket":{"port":80}}}]}}}}',
      '{"request":{"object":{"kind":"Pod","spec":{"containers":[{"name":"a","args":["--listen-address=0.0.0.0:80"],"livenessProbe":{"tcpSocket":{"port":80}}}]}}}}',
      "[".repeat(600) + "]".repeat(600), '{"request":' + "[".repeat(511) + "]".repeat(511) + "}", '{"request":{"a":"\u0001"}}',
      new Uint8Array([0x7b, 0x22, 0x72, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]), new Uint8Array([0x7b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x3a, 0x31, 0x7d]),
      '{"request":{"a":"\\ud800"}}', '{"request":{"a":1.}}', '{"request":{"a":01}}', '{"request":{"a":-}}', '{"request":{"a":1e}}', '{"request":{"a":.5}}',
      '{"request":{"a":tru}}', '{"request":{"a":nul}}', '{"request":{"a":falsey}}', '{"request":{"a":"x\\q"}}', '{"request":{"a":"\\u12"}}',
    ];
    for (const [i, input] of inputs.entries()) await expectSameAnswers(input, `hostile input #${i}`);
    await expectSameAnswers("{}", "validate-settings {}", "validate-settings");
  });

  it("for named probe ports, which the pre-check resolves only where the analysis would", async () => {
    const pod = (container: string, spec = "") =>
      `{"settings":{},"request":{"uid":"u","kind":{"group":"","version":"v1","kind":"Pod"},"operation":"CREATE","namespace":"n","object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"n"},"spec":{${spec}"containers":[${container}]}}}}`;
    const probe = (port: string) => `"readinessProbe":{"httpGet":{"path":"/","port":${port}}}`;
    const http = '"ports":[{"name":"http","containerPort":8080}]';
    const cases: [string, string][] = [
      ["resolved", pod(`{"name":"a",${http},${probe('"http"')}}`)],
      ["resolved, ports after the probe", pod(`{"name":"a",${probe('"http"')},${http}}`)],
      ["unresolved", pod(`{"name":"a",${http},${probe('"metrics"')}}`)],
      ["named in another container", pod(`{"name":"a",${probe('"http"')}},{"name":"b",${http}}`)],
      ["two ports lists, the last without the name", pod(`{"name":"a",${http},"ports":[{"containerPort":8080}],${probe('"http"')}}`)],
      ["two ports lists, the last with the name", pod(`{"name":"a","ports":[{"containerPort":8080}],${http},${probe('"http"')}}`)],
      ["two names in one port, the last another", pod(`{"name":"a","ports":[{"name":"http","name":"web","containerPort":8080}],${probe('"http"')}}`)],
      ["name declared under the probe", pod(`{"name":"a","livenessProbe":{"ports":[{"name":"http","containerPort":1}],"tcpSocket":{"port":"http"}}}`)],
      ["a digit-only name", pod(`{"name":"a","ports":[{"name":"99999","containerPort":8080}],${probe('"99999"')}}`)],
      ["a numeric string", pod(`{"name":"a",${http},${probe('"8080"')}}`)],
      ["an upper-case name", pod(`{"name":"a","ports":[{"name":"HTTP","containerPort":8080}],${probe('"HTTP"')}}`)],
      ["an escaped name", pod(`{"name":"a","ports":[{"name":"h\\u0074tp","containerPort":8080}],${probe('"h\\u0074tp"')}}`)],
      ["an empty name", pod(`{"name":"a","ports":[{"name":"","containerPort":8080}],${probe('""')}}`)],
      ["a grpc probe with a port number", pod(`{"name":"a",${http},"livenessProbe":{"grpc":{"port":8080}},${probe('"http"')}}`)],
      ["a grpc probe naming a port", pod(`{"name":"a",${http},"livenessProbe":{"grpc":{"port":"http"}}}`)],
      ["a grpc probe naming a port, a second time", pod(`{"name":"a",${http},"livenessProbe":{"grpc":{"port":1,"port":"http"}}}`)],
      ["a name under grpc, deeper", pod(`{"name":"a",${http},"livenessProbe":{"grpc":{"port":1,"x":{"port":"http"}}}}`)],
      ["a named port outside a container", pod(`{"name":"a",${http}}`, '"x":{"port":"http"},')],
      ["a container inside a container", pod(`{"name":"a",${http},"containers":[{"name":"b",${probe('"http"')}}]}`)],
      ["an init container", pod(`{"name":"a"}`, `"initContainers":[{"name":"i","restartPolicy":"Always",${http},${probe('"http"')}}],`)],
      ["an init container, unresolved", pod(`{"name":"a"}`, `"initContainers":[{"name":"i","restartPolicy":"Always",${probe('"http"')}}],`)],
      ["33 port names", pod(`{"name":"a","ports":[${Array.from({ length: 33 }, (_, i) => `{"name":"p${i}","containerPort":${8000 + i}}`).join(",")}],${probe('"p32"')}}`)],
      ["33 references", pod(`{"name":"a",${http},"lifecycle":{${Array.from({ length: 33 }, (_, i) => `"h${i}":{"httpGet":{"port":"http"}}`).join(",")}}}`)],
      ["a loopback listener probed by name", pod(`{"name":"a","args":["--listen-address=127.0.0.1:8080"],${http},${probe('"http"')}}`)],
    ];
    for (const [label, text] of cases) await expectSameAnswers(text, `named ports: ${label}`);
    // The sound cases are answered natively: far fewer instructions than the JS path.
    for (const label of ["resolved", "resolved, ports after the probe", "an init container", "a grpc probe with a port number"]) {
      const text = encoder.encode(cases.find(([l]) => l === label)![1]);
      const on = await runWasmtime(wasmBytes("reject-loopback-probes"), "validate", text, { fuel: true });
      const off = await runWasmtime(wasmBytes("reject-loopback-probes.no-precheck"), "validate", text, { fuel: true });
      expect(decoder.decode(on.stdout), label).toBe('{"accepted":true}');
      expect(on.fuel! * 5, label).toBeLessThan(off.fuel!);
    }
    // The unsound ones are not: the JS answer names the port it cannot resolve.
    for (const label of ["unresolved", "named in another container", "two ports lists, the last without the name", "two names in one port, the last another"]) {
      const on = await runWasmtime(wasmBytes("reject-loopback-probes"), "validate", encoder.encode(cases.find(([l]) => l === label)![1]));
      expect(decoder.decode(on.stdout), label).toMatch(/no port named/);
    }
    const grpc = await runWasmtime(wasmBytes("reject-loopback-probes"), "validate", encoder.encode(cases.find(([l]) => l === "a grpc probe naming a port")![1]));
    expect(decoder.decode(grpc.stdout)).toMatch(/grpc\.port must be a number/);
  });

  it("for loopback binds in pods without network probes, which the pre-check answers, and with one before or after", async () => {
    const pod = (containers: string, spec = "") =>
      `{"settings":{},"request":{"uid":"u","kind":{"group":"","version":"v1","kind":"Pod"},"operation":"CREATE","namespace":"n","object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"n"},"spec":{${spec}"containers":[${containers}]}}}}`;
    const bind = '"args":["--listen-address=127.0.0.1:8080"]';
    const probe = (handler: string) => `"readinessProbe":{"${handler}":{"port":8080}}`;
    const cases: [string, string][] = [
      ["no probe", pod(`{"name":"a",${bind}}`)],
      ["an exec probe", pod(`{"name":"a",${bind},"livenessProbe":{"exec":{"command":["wget","-qO-","http://127.0.0.1:8080/"]}}}`)],
      ["every trigger, no probe", pod(`{"name":"a","command":["sh","-c","exec app --listen-address=$(HOST):8080 --bind=localhost --addr=[::1]:1 --x=0x7f000001 --y=2130706433 --z=%31"],"env":[{"name":"HOST","value":"127.0.0.1"},{"name":"E","value":"\\u0031\\u0032\\u0037.0.0.1"}],${bind}}`)],
      ["a probe after the bind", pod(`{"name":"a",${bind},${probe("httpGet")}}`)],
      ["a probe before the bind", pod(`{"name":"a",${probe("tcpSocket")},${bind}}`)],
      ["a grpc probe in another container", pod(`{"name":"a",${bind}},{"name":"b",${probe("grpc")}}`)],
      ["a probe in an earlier container", pod(`{"name":"b",${probe("httpGet")}},{"name":"a",${bind}}`)],
      ["an escaped bind, then a probe", pod(`{"name":"a","args":["--listen-address=\\u0031\\u0032\\u0037.0.0.1:8080"],${probe("httpGet")}}`)],
      ["a probe on another port", pod(`{"name":"a",${bind},"readinessProbe":{"httpGet":{"port":9090}}}`)],
      ["a probe with a loopback host", pod(`{"name":"a","readinessProbe":{"httpGet":{"host":"127.0.0.1","port":9090}}}`)],
      ["httpGet outside a probe (a lifecycle hook)", pod(`{"name":"a",${bind},"lifecycle":{"postStart":{"httpGet":{"port":8080}}}}`)],
      ["a probe of an init container that is not a sidecar", pod(`{"name":"a",${bind}}`, `"initContainers":[{"name":"i",${probe("httpGet")}}],`)],
      ["a native sidecar's probe", pod(`{"name":"a",${bind}}`, `"initContainers":[{"name":"i","restartPolicy":"Always",${probe("httpGet")}}],`)],
    ];
    for (const [label, text] of cases) await expectSameAnswers(text, `arming: ${label}`);
    const run = async (label: string, module = "reject-loopback-probes") =>
      runWasmtime(wasmBytes(module), "validate", encoder.encode(cases.find(([l]) => l === label)![1]), { fuel: true });
    // No network probe anywhere: answered natively, whatever the commands say.
    for (const label of ["no probe", "an exec probe", "every trigger, no probe"]) {
      const [on, off] = [await run(label), await run(label, "reject-loopback-probes.no-precheck")];
      expect(decoder.decode(on.stdout), label).toBe('{"accepted":true}');
      expect(on.fuel! * 5, label).toBeLessThan(off.fuel!);
    }
    // A network probe anywhere, before or after the trigger: JS decides (and finds the bind).
    for (const label of ["a probe after the bind", "a probe before the bind", "a grpc probe in another container", "a probe in an earlier container", "a native sidecar's probe", "an escaped bind, then a probe"])
      expect(decoder.decode((await run(label)).stdout), label).toMatch(/bound only on loopback/);
    for (const label of ["a probe on another port", "httpGet outside a probe (a lifecycle hook)", "a probe of an init container that is not a sidecar"]) {
      const [on, off] = [await run(label), await run(label, "reject-loopback-probes.no-precheck")];
      expect(decoder.decode(on.stdout), label).toBe('{"accepted":true}');
      expect(on.fuel! * 5, label).toBeGreaterThan(off.fuel!); // armed: the JS path ran
    }
  });

  it("for every special byte at every offset of an unscanned string (the glue reads such strings eight bytes at a time)", async () => {
    const specials: [string, number[]][] = [
      ["control", [0x01]], ["tab", [0x09]], ["quote", [0x5c, 0x22]], ["backslash", [0x5c, 0x5c]], ["bad escape", [0x5c, 0x71]],
      ["u escape", [0x5c, 0x75, 0x30, 0x30, 0x34, 0x31]], ["é", [0xc3, 0xa9]], ["lone continuation", [0x80]], ["overlong", [0xc0, 0xaf]],
      ["surrogate", [0xed, 0xa0, 0x80]], ["del", [0x7f]], ["space", [0x20]], ["0xff", [0xff]],
    ];
    const prefix = encoder.encode('{"settings":{},"request":{"object":{"kind":"ConfigMap","metadata":{"name":"');
    for (const [label, bytes] of specials)
      for (let at = 0; at < 17; at++)
        for (const tail of ['"}}}}', '","x":1}}}']) {
          const text = new Uint8Array([...prefix, ...encoder.encode("a".repeat(at)), ...bytes, ...encoder.encode("b".repeat(16 - at)), ...encoder.encode(tail)]);
          await expectSameAnswers(text, `${label} at offset ${at}`, "validate", "node");
          // A string that ends right at the end of the input, cut inside the eight bytes.
          await expectSameAnswers(text.subarray(0, prefix.length + at + bytes.length), `${label} at offset ${at}, input cut after it`, "validate", "node");
        }
  });

  it("for keys written with escapes: an opt-out annotation key with `\\/` gets the JS answer (issue 21)", async () => {
    const pod = (key: string) =>
      `{"settings":{},"request":{"uid":"u","kind":{"group":"","version":"v1","kind":"Pod"},"operation":"CREATE","namespace":"n","object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"n","annotations":{"${key}":"*"}},"spec":{"containers":[{"name":"a","readinessProbe":{"httpGet":{"port":8080}}}]}}}}`;
    const [prefix, suffix] = SKIP_CONTAINERS_ANNOTATION.split("/") as [string, string];
    const spellings: [string, string][] = [
      ["plain", SKIP_CONTAINERS_ANNOTATION],
      ["escaped slash", `${prefix}\\/${suffix}`],
      ["\\u escape", `${prefix}/\\u0073${suffix.slice(1)}`],
      ["escaped slash in another key", "example.com\\/x"],
    ];
    for (const [label, key] of spellings) await expectSameAnswers(pod(key), `escaped key: ${label}`);
    for (const [label, key] of spellings.slice(0, 3)) {
      const answer = decoder.decode((await runWasmtime(wasmBytes("reject-loopback-probes"), "validate", encoder.encode(pod(key)))).stdout);
      expect(answer, label).toMatch(/skip-containers/);
    }
  });

  it("for every shell and wrapper case of tests/cases/shell-families.yml", async () => {
    for (const c of shellCases()) {
      const req = caseRequest(c);
      await expectSameAnswers(JSON.stringify({ request: req, settings: {} }), `shell case ${c.name}`);
      // The same pod with the probe moved to an exec probe: no network probe, answered natively when clean.
      const object = structuredClone(req.object) as { spec: { template: { spec: { containers: Record<string, unknown>[] } } } };
      object.spec.template.spec.containers[0]!.livenessProbe = { exec: { command: ["true"] } };
      await expectSameAnswers(JSON.stringify({ request: { ...req, object }, settings: {} }), `shell case ${c.name}, exec probe`, "validate", "node");
    }
  });

  it(`at the container limit (${MAX_CHECKED_CONTAINERS}) and one past it, which the answer then names`, async () => {
    const pod = (list: "containers" | "initContainers", n: number) => {
      const items = Array.from({ length: n }, (_, i) => ({ name: `c${i}`, image: "app:1", ports: [{ containerPort: 8080 }] }));
      const spec = list === "containers" ? { containers: items } : { containers: [{ name: "main" }], initContainers: items };
      return JSON.stringify(request({ apiVersion: "v1", kind: "Pod", metadata: { name: "many" }, spec }));
    };
    for (const list of ["containers", "initContainers"] as const) {
      await expectSameAnswers(pod(list, MAX_CHECKED_CONTAINERS), `${MAX_CHECKED_CONTAINERS} ${list}`);
      await expectSameAnswers(pod(list, MAX_CHECKED_CONTAINERS + 1), `${MAX_CHECKED_CONTAINERS + 1} ${list}`);
      for (const pair of pairs) {
        const within = decoder.decode((await runWasi(await compileModule(pair.on), "validate", encoder.encode(pod(list, MAX_CHECKED_CONTAINERS)))).stdout);
        const past = decoder.decode((await runWasi(pair.off, "validate", encoder.encode(pod(list, MAX_CHECKED_CONTAINERS + 1)))).stdout);
        expect(within).toBe('{"accepted":true}');
        expect(JSON.parse(past)).toEqual({
          accepted: true,
          warnings: [`Pod many: not checked: ${MAX_CHECKED_CONTAINERS + 1} ${list}, more than the ${MAX_CHECKED_CONTAINERS} this policy checks in one pod`],
        });
      }
    }
  });

  it(`for ${RUNS} generated workloads with mutations aimed at the rules (seed ${SEED})`, async () => {
    console.info(`native pre-check differential: seed ${SEED} (replay with FUZZ_SEED=${SEED})`);
    const sample = fc.sample(mutatedRequest, { numRuns: RUNS, seed: SEED });
    for (const [i, text] of sample.entries()) {
      await expectSameAnswers(text, `generated request #${i} (seed ${SEED})`, "validate", GENERATED_ENGINES);
      if (RUNS > 1000 && (i + 1) % 10_000 === 0) console.info(`native pre-check differential: ${i + 1} of ${RUNS} compared`);
    }
    console.info(`native pre-check differential: ${RUNS} generated requests × ${pairs.length} policies compared (${GENERATED_ENGINES === "both" ? "node:wasi and wasmtime" : "node:wasi"})`);
  });

  const corpus = join(ROOT, "..", "shared", "corpus");
  it.runIf(existsSync(corpus))("for every workload in ../shared/corpus", async () => {
    // Read as the audit reads them (kubectl's YAML semantics; its fast reader, on this thread:
    // 2.5 s of CPU where the reference reader takes 13 s, and tests/unit/read-parallel.test.ts
    // proves both read this corpus alike), every object with a pod template, kept only as
    // request texts: the read manifests (tens of MB of heap) made every node:wasi
    // instantiation's garbage collection five times slower.
    const workloads = (await readManifestsParallel([corpus], { inlineBelow: Number.POSITIVE_INFINITY }))
      .objects.filter((o) => podTemplateOf(o.object) !== null)
      .map((o) => ({ stdin: encoder.encode(JSON.stringify(request(o.object))), label: `${o.file} (document ${o.documentIndex + 1})` }));
    for (const { stdin, label } of workloads) await expectSameAnswers(stdin, label);
    console.info(`native pre-check differential: ${workloads.length} corpus workloads, ${compared} comparisons so far`);
    expect(workloads.length).toBeGreaterThan(100);
    // ~5,000 evaluations (826 workloads, two policies, on under both engines and off): its time grows
    // with the corpus and with the share of requests the JS decides, not with any one request.
  }, 900_000);
});

describe("native pre-check: fires on clean requests", () => {
  it("answers a clean workload without entering JS (far fewer wasm instructions)", async () => {
    const clean = JSON.stringify(
      request({
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "web", namespace: "shop" },
        spec: { template: { spec: { containers: [{ name: "web", image: "shop/web:1", args: ["--listen-address=:8080"], ports: [{ name: "http", containerPort: 8080 }], readinessProbe: { httpGet: { path: "/ready", port: 8080 } } }] } } },
      }),
    );
    for (const policy of POLICIES) {
      const on = await runWasmtime(wasmBytes(policy), "validate", encoder.encode(clean), { fuel: true });
      const off = await runWasmtime(wasmBytes(`${policy}.no-precheck`), "validate", encoder.encode(clean), { fuel: true });
      expect(decoder.decode(on.stdout)).toBe('{"accepted":true}');
      expect(decoder.decode(off.stdout)).toBe(decoder.decode(on.stdout));
      // The JS path parses, checks and stringifies: hundreds of thousands of instructions.
      expect(on.fuel! * 5).toBeLessThan(off.fuel!);
    }
  });

  it("tells the JS when every rule held and only loopback text sent the request there: the shape check is skipped", async () => {
    const broken = JSON.parse(readFileSync(join(ROOT, "policies/reject-loopback-probes/test_data/prometheus-listenlocal-broken.json"), "utf8"));
    const withTypo = structuredClone(broken);
    // A wrong type where the rules look (an env name that is a number): the rules fail, so the check runs.
    withTypo.object.spec.template.spec.containers[1].env[0].name = 5;
    for (const policy of POLICIES) {
      const fuel = async (body: unknown) => {
        const stdin = encoder.encode(JSON.stringify({ request: body, settings: {} }));
        const on = await runWasmtime(wasmBytes(policy), "validate", stdin, { fuel: true });
        const off = await runWasmtime(wasmBytes(`${policy}.no-precheck`), "validate", stdin, { fuel: true });
        expect(decoder.decode(on.stdout)).toBe(decoder.decode(off.stdout));
        return { answer: decoder.decode(on.stdout), saved: off.fuel! - on.fuel! };
      };
      const clean = await fuel(broken);
      expect(clean.answer).toContain("config-reloader");
      // Without the pre-check the JS checks the shape (~0.2 M instructions); with it the
      // glue scans the whole request instead (~0.1 M) and the JS skips the check.
      expect(clean.saved).toBeGreaterThan(50_000);
      const typo = await fuel(withTypo);
      expect(typo.answer).toContain("env[0].name must be a string, got a number");
      // The scan stopped at the typo and claimed nothing: it costs what it cost before.
      expect(typo.saved).toBeLessThan(0);
    }
  });
});
