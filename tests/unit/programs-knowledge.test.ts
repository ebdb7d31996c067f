/**
 * The program knowledge base: its data (every row sourced, names unique, the
 * pre-check covers every loopback default), its readers (option syntaxes, images,
 * versions), and every case of programs.yml judged by the TypeScript analysis and
 * fixed by the rewrite. The same cases run through the built modules in
 * tests/e2e/policy-cases.test.ts.
 */
import type { Container } from "kubernetes-types/core/v1";
import { describe, expect, it } from "vitest";
import { LOOPBACK_TRIGGERS, PROGRAM_TRIGGERS } from "../../src/analysis/clean-object.js";
import { containerListeners } from "../../src/analysis/listeners.js";
import { containerMayNameLoopback } from "../../src/analysis/loopback-text.js";
import { SHELLS, WRAPPERS } from "../../src/analysis/wrappers.js";
import { DEFAULT_LISTEN_ENV_VARS, DEFAULT_LISTEN_FLAGS } from "../../src/analysis/listen-specs.js";
import { BARE, PROP, readCommandLine, VALUE, WANTED, type ReadSpec } from "../../src/analysis/programs-knowledge/command-line.js";
import {
  CLIENTS,
  IMAGES,
  imageEntry,
  LAUNCHERS,
  loopbackDefaultTriggers,
  parseImage,
  parseVersion,
  SERVERS,
  serverNamed,
} from "../../src/analysis/programs-knowledge/index.js";
import { socatBinds } from "../../src/analysis/programs-knowledge/socat.js";
import { findUnreachableProbes, summarizeFindings } from "../../src/analysis/reachability.js";
import { rewriteUnreachableProbes } from "../../src/analysis/rewrite.js";
import { analysisOptions } from "../../policies/shared/settings.js";
import { caseObject, programCases } from "../support/program-cases.js";

const specs = { flags: DEFAULT_LISTEN_FLAGS, envVars: DEFAULT_LISTEN_ENV_VARS };
const binds = (container: Partial<Container>) =>
  containerListeners({ name: "app", ...container } as Container, specs).map((l) => `${l.hostClass}:${l.host}:${l.port}${l.certain ? "" : " (uncertain)"}`);

describe("the knowledge base's data", () => {
  it("every server, image and launcher row names its source", () => {
    for (const s of SERVERS) expect(s.sources.length, s.names.join()).toBeGreaterThan(0);
    for (const i of IMAGES) expect(i.sources.length, i.repositories.join()).toBeGreaterThan(0);
    for (const c of CLIENTS) expect(c.kind.length).toBeGreaterThan(0);
  });
  it("a name is a server, a client, a launcher or a wrapper (wrappers.ts, the shell model's one table), never two of them", () => {
    const seen = new Map<string, string>();
    const claim = (name: string, what: string) => {
      const before = seen.get(name);
      if (before !== undefined && before !== what) throw new Error(`${name} is both ${before} and ${what}`);
      seen.set(name, what);
    };
    for (const s of SERVERS) for (const n of s.names) claim(n, "server");
    for (const c of CLIENTS) for (const n of c.names) claim(n, "client");
    for (const l of LAUNCHERS) for (const n of l.names) if (n !== "java") claim(n, "launcher");
    for (const w of WRAPPERS) for (const n of w.names) claim(n, "wrapper");
    for (const n of SHELLS) claim(n, "wrapper");
    expect(seen.size).toBeGreaterThan(150);
  });
  it("every image row runs a program the knowledge base knows", () => {
    for (const i of IMAGES) expect(serverNamed(i.program), i.program).toBeDefined();
  });
  it("the native pre-check's program triggers cover every program and image whose default binds loopback", () => {
    const derived = loopbackDefaultTriggers();
    expect(derived).toEqual(expect.arrayContaining(["uvicorn", "kubelet", "synthetic-monitoring-agent", "grafana/alloy", "openpolicyagent/opa", "mongo"]));
    for (const name of derived) expect(PROGRAM_TRIGGERS.some((t) => name.includes(t)), name).toBe(true);
    for (const t of LOOPBACK_TRIGGERS) expect(t).toBe(t.toLowerCase());
  });
  it("a container whose image or program binds loopback by default may name loopback (a work bound hit in it still warns, as the pre-check falls back)", () => {
    expect(containerMayNameLoopback({ image: "grafana/synthetic-monitoring-agent:v0.29.2" })).toBe(true);
    expect(containerMayNameLoopback({ image: "example/api:1", command: ["uvicorn", "main:app"] })).toBe(true);
    expect(containerMayNameLoopback({ image: "example/api:1", command: ["/app", "--listen-address=:8000"] })).toBe(false);
  });
  it("a program or image named like an Object.prototype member is just unknown", () => {
    for (const name of ["constructor", "__proto__", "toString", "hasOwnProperty"]) {
      expect(serverNamed(name)).toBeUndefined();
      expect(binds({ command: [name, "--listen-address=127.0.0.1:1"] })).toEqual(["loopback:127.0.0.1:1"]);
      expect(imageEntry(name)).toBeUndefined();
    }
  });
});

describe("images and versions", () => {
  it.each([
    ["grafana/alloy:v1.4.2", ["grafana", "alloy"], "v1.4.2"],
    ["docker.io/grafana/alloy", ["grafana", "alloy"], ""],
    ["registry.example:5000/mirror/grafana/alloy:v1@sha256:abc", ["mirror", "grafana", "alloy"], "v1"],
    ["redis:7.2", ["library", "redis"], "7.2"],
    ["localhost/redis", ["library", "redis"], ""],
    ["quay.io/oauth2-proxy/oauth2-proxy:v7.6.0", ["oauth2-proxy", "oauth2-proxy"], "v7.6.0"],
  ])("%s", (image, path, tag) => expect(parseImage(image)).toEqual({ path, tag }));
  it("matches a repository by its last path components only", () => {
    expect(imageEntry("mirror.example/grafana/alloy:v1")?.entry.program).toBe("alloy");
    expect(imageEntry("example/alloy:v1")).toBeUndefined();
    expect(imageEntry("redis:7")?.entry.program).toBe("redis-server");
    expect(imageEntry("bitnami/redis:7")).toBeUndefined(); // its entrypoint is another script
  });
  it.each([
    ["v1.2.3", [1, 2, 3]],
    ["1.0", [1, 0, 0]],
    ["3.6.0-rootless", [3, 6, 0]],
    ["0.69.0-envoy", [0, 69, 0]],
    ["latest", null],
    ["", null],
    ["edge-static", null],
  ])("version of %j", (tag, version) => expect(parseVersion(tag)).toEqual(version));
});

describe("option syntaxes", () => {
  /** A read spec from the old-style sets, so each case says plainly what it wants. */
  const spec = (over: { syntax?: ReadSpec["syntax"]; wanted?: string[]; value?: string[]; bare?: string[]; props?: string[]; optional?: [string, string][]; longOptionProps?: boolean; dashUnderscore?: boolean }): ReadSpec => {
    const keys = new Map<string, number>();
    const mark = (list: string[] | undefined, flag: number) => {
      for (const k of list ?? []) keys.set(k, (keys.get(k) ?? 0) | flag);
    };
    mark(over.wanted, WANTED);
    mark(over.value, VALUE);
    mark(over.bare, BARE);
    mark(over.props, PROP);
    return { syntax: over.syntax ?? "gnu", keys, written: null, optional: new Map(over.optional ?? []), longOptionProps: over.longOptionProps ?? false, dashUnderscore: over.dashUnderscore ?? false };
  };
  it("gnu: --long=value, --long value, -x value, -xvalue, grouped flags, -- ends the options", () => {
    const line = readCommandLine(["-uvp8000", "--host", "a", "--host=b", "-b", "c", "app:main", "--", "--host=d"], spec({ wanted: ["--host", "-p", "-b", "-u"], bare: ["-u"] }));
    expect(line.options.get("--host")!.map((h) => h.value)).toEqual(["a", "b"]);
    expect(line.options.get("-p")![0]!.value).toBe("8000");
    expect(line.options.get("-b")![0]!.value).toBe("c");
    expect(line.options.get("-u")![0]!.value).toBeUndefined();
    expect(line.positional).toEqual(["app:main", "--host=d"]);
  });
  it("gnu: an optional value given alone means its bare value", () => {
    const s = spec({ wanted: ["--host"], optional: [["--host", ""]] });
    expect(readCommandLine(["--host", "--port", "1"], s).options.get("--host")![0]!.value).toBe("");
    expect(readCommandLine(["--host", "127.0.0.1"], s).options.get("--host")![0]!.value).toBe("127.0.0.1");
  });
  it("gnu: -c name=value and --name=value are properties (PostgreSQL), with - and _ the same", () => {
    const line = readCommandLine(["-c", "listen_addresses=localhost", "--port=5433"], spec({ props: ["-c"], longOptionProps: true, dashUnderscore: true }));
    expect(line.props.get("listen-addresses")?.value).toBe("localhost");
    expect(line.props.get("port")?.value).toBe("5433");
  });
  it("redis: a configuration file first, then --name value value…", () => {
    const line = readCommandLine(["/etc/redis.conf", "--bind", "127.0.0.1", "::1", "--port", "6380"], spec({ syntax: "redis", wanted: ["--bind", "--port", "<config-file>"] }));
    expect(line.options.get("--bind")![0]!.value).toBe("127.0.0.1 ::1");
    expect(line.options.get("<config-file>")).toHaveLength(1);
  });
  it("dotnet: --key value, --key=value, /key value, key=value, case-insensitive", () => {
    const line = readCommandLine(["--URLS", "http://a", "/Kestrel:Endpoints:Http:Url=http://b", "environment=Production"], spec({ syntax: "dotnet" }));
    expect(line.props.get("urls")?.value).toBe("http://a");
    expect(line.props.get("kestrel:endpoints:http:url")?.value).toBe("http://b");
    expect(line.props.get("environment")?.value).toBe("Production");
  });
  it("go: cfg: properties (Grafana)", () => {
    const line = readCommandLine(["--config=/x", "cfg:server.http_addr=127.0.0.1", "cfg:default.paths.data=/d"], spec({ syntax: "go", wanted: ["config"] }));
    expect(line.props.get("server.http_addr")?.value).toBe("127.0.0.1");
    expect(line.options.get("config")![0]!.value).toBe("/x");
  });
  it("socat: options, then two addresses; TCP-LISTEN binds all interfaces unless bind=", () => {
    let n = 0;
    const next = () => n++;
    const out = socatBinds(["-d", "-d", "-lf", "/dev/stderr", "tcp-l:80,bind=[::1],fork", "TCP6-LISTEN:81,fork"], next).map((b) => `${b.host}:${b.port}`);
    expect(out).toEqual(["[::1]:80", ":::81"]);
    expect(socatBinds(["-T", "5", "TCP:127.0.0.1:80", "STDIO"], next)).toEqual([]);
  });
});

describe("what programs bind (units the cases file does not spell out)", () => {
  it.each<[string, Partial<Container>, string[]]>([
    ["kube-scheduler's --bind-address serves 10259", { command: ["kube-scheduler", "--bind-address=127.0.0.1"] }, ["loopback:127.0.0.1:10259"]],
    ["--secure-port=0 disables it (no port: no bind of any port)", { command: ["kube-scheduler", "--bind-address=127.0.0.1", "--secure-port=0"] }, ["loopback:127.0.0.1:null"]],
    ["kube-controller-manager", { command: ["kube-controller-manager", "--bind-address=127.0.0.1"] }, ["loopback:127.0.0.1:10257"]],
    ["the kubelet with --config", { command: ["kubelet", "--config=/c"] }, ["loopback:127.0.0.1:10248 (uncertain)", "all-interfaces:0.0.0.0:10250 (uncertain)"]],
    ["gunicorn repeats -b", { command: ["gunicorn", "-b", "127.0.0.1:8000", "--bind=[::1]:8000", "app:app"] }, ["loopback:127.0.0.1:8000", "loopback:[::1]:8000"]],
    ["gunicorn -b host alone: port 8000", { command: ["gunicorn", "-b", "127.0.0.1", "app:app"] }, ["loopback:127.0.0.1:8000"]],
    ["gunicorn's default under PORT", { command: ["gunicorn", "app:app"], env: [{ name: "PORT", value: "9000" }] }, ["all-interfaces:0.0.0.0:9000 (uncertain)"]],
    ["Django runserver -6", { command: ["django-admin", "runserver", "-6"] }, ["loopback:[::1]:8000"]],
    ["python -m django runserver", { command: ["python3.12", "-m", "django", "runserver", "8001"] }, ["loopback:127.0.0.1:8001"]],
    ["python -mhttp.server", { command: ["python", "-u", "-mhttp.server", "-b", "::1"] }, ["loopback:::1:8000"]],
    ["uv run with its own options", { command: ["uv", "run", "--with", "fastapi", "uvicorn", "main:app"] }, ["loopback:127.0.0.1:8000"]],
    ["node_modules/.bin/vite via node", { command: ["node", "node_modules/.bin/vite", "--host", "127.0.0.1"] }, ["loopback:127.0.0.1:5173"]],
    ["the image's CMD when args are empty (alloy)", { image: "grafana/alloy:v1.4.2" }, ["loopback:127.0.0.1:12345"]],
    ["the image's args replace its CMD (etcd has no entrypoint)", { image: "quay.io/coreos/etcd:v3.5.15", args: ["etcd", "--listen-client-urls=http://0.0.0.0:2379"] }, [
      "all-interfaces:0.0.0.0:2379",
      "loopback:localhost:2380",
    ]],
    ["etcd with a configuration file: flags and env are ignored", { command: ["etcd", "--config-file=/e.yaml", "--listen-client-urls=http://127.0.0.1:2379"] }, [
      "loopback:127.0.0.1:2379 (uncertain)",
      "loopback:localhost:2380 (uncertain)",
    ]],
    ["mongod --bind_ip_all", { command: ["mongod", "--bind_ip_all"] }, ["all-interfaces:0.0.0.0:27017"]],
    ["redis bind * -::*", { command: ["redis-server", "--bind", "*", "-::*"] }, ["all-interfaces:*:6379", "all-interfaces::::6379"]],
    ["vault's image: VAULT_DEV_LISTEN_ADDRESS wins over the entrypoint's fallback", { image: "hashicorp/vault:1.17", args: ["server", "-dev"], env: [{ name: "VAULT_DEV_LISTEN_ADDRESS", value: "127.0.0.1:8200" }] }, ["loopback:127.0.0.1:8200"]],
    ["consul -client with several addresses", { command: ["consul", "agent", "-dev", "-client", "127.0.0.1 10.0.0.1"] }, [
      "loopback:127.0.0.1:8500",
      "other:10.0.0.1:8500",
      "loopback:127.0.0.1:8600",
      "other:10.0.0.1:8600",
    ]],
    ["ASP.NET Core's HTTP_PORTS lists", { command: ["/app/api"], env: [{ name: "ASPNETCORE_HTTP_PORTS", value: "8080;8081" }] }, ["all-interfaces::8080", "all-interfaces::8081"]],
    ["Quarkus -Dquarkus.http.host", { command: ["java", "-Dquarkus.http.host=127.0.0.1", "-jar", "quarkus-run.jar"] }, ["all-interfaces::8080 (uncertain)", "loopback:127.0.0.1:8080"]],
    ["java with an @argfile is unknown", { command: ["java", "@/app/jvm.args", "-jar", "app.jar"] }, []],
    ["a client's --address is not read", { command: ["psql", "--host=127.0.0.1", "--port=5432"] }, []],
    ["nor a command of a known CLI", { command: ["kubectl", "port-forward", "--address=127.0.0.1", "svc/x", "8080:80"] }, []],
  ])("%s", (_title, container, expected) => expect(binds(container)).toEqual(expected));
});

describe("programs of your own (settings `programs`)", () => {
  const options = analysisOptions({
    programs: [
      { name: "inventory", images: ["registry.example.com/shop/inventory"], listeners: [{ flag: "--http-addr", env: "INVENTORY_ADDR", default: "127.0.0.1:9000" }, { flag: "--admin", portFlag: "--admin-port", defaultPort: 9001 }] },
      { name: "psql-wrapper", client: true },
      { name: "uvicorn", client: true },
    ],
  });
  const own = (container: Partial<Container>) =>
    containerListeners({ name: "app", ...container } as Container, options).map((l) => `${l.hostClass}:${l.host}:${l.port} ${l.setting}`);
  it("a server's default, flag and variable, by name or by its image's entrypoint", () => {
    expect(own({ command: ["/opt/inventory"] })).toEqual(["loopback:127.0.0.1:9000 inventory --http-addr"]);
    expect(own({ image: "registry.example.com/shop/inventory:4.2.0", args: ["--admin=127.0.0.1"] })).toEqual([
      "loopback:127.0.0.1:9000 inventory --http-addr",
      "loopback:127.0.0.1:9001 --admin",
    ]);
    expect(own({ command: ["inventory", "--http-addr=:9000"], env: [{ name: "INVENTORY_ADDR", value: "127.0.0.1:9000" }] })).toEqual(["all-interfaces::9000 --http-addr"]);
    expect(own({ command: ["inventory"], env: [{ name: "INVENTORY_ADDR", value: "0.0.0.0:9000" }] })).toEqual(["all-interfaces:0.0.0.0:9000 INVENTORY_ADDR"]);
    // The generic flags are read for it too (not the ambiguous ones).
    expect(own({ command: ["inventory", "--metrics-bind-address=127.0.0.1:9100", "--host=127.0.0.1"] })).toEqual([
      "loopback:127.0.0.1:9000 inventory --http-addr",
      "loopback:127.0.0.1:9100 --metrics-bind-address",
    ]);
  });
  it("a client binds nothing, and the user's rows come before the built-in ones", () => {
    expect(own({ command: ["psql-wrapper", "--listen-address=127.0.0.1:1"] })).toEqual([]);
    expect(own({ command: ["uvicorn", "main:app"] })).toEqual([]);
  });
});

describe("programs.yml, judged by the TypeScript analysis and fixed by the rewrite", () => {
  const cases = programCases();
  it("has cases for every family the issue names", () => expect(cases.length).toBeGreaterThanOrEqual(80));
  it.each(cases.map((c, i) => [c.title, c, i] as const))("%s", (_t, c, i) => {
    const object = caseObject(c, i);
    const findings = findUnreachableProbes(object);
    expect(findings.map((f) => `${f.target.container}/${f.target.probeKind}`).sort()).toEqual([...c.findings].sort());
    if (findings.length === 0) return;
    const message = summarizeFindings(findings);
    for (const text of c.messageIncludes ?? []) expect(message).toContain(text);
    const fixed = rewriteUnreachableProbes(object, findings);
    const text = JSON.stringify(fixed.object);
    for (const s of c.exec ?? []) expect(text).toContain(s);
    expect(findUnreachableProbes(fixed.object).length > 0).toBe(c.keeps === true);
  });
});
