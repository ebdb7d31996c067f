import type { Container, PodSpec } from "kubernetes-types/core/v1";
import { describe, expect, it } from "vitest";
import { containerListeners, expandVars, literalEnv } from "../../src/analysis/listeners.js";
import { DEFAULT_LISTEN_ENV_VARS, DEFAULT_LISTEN_FLAGS } from "../../src/analysis/listen-specs.js";
import { probeTargets, resolvePort } from "../../src/analysis/probes.js";
import { DEFAULT_ANALYSIS_OPTIONS, findUnreachableProbes, matchesName } from "../../src/analysis/reachability.js";
import { httpCheckScript, rewriteToExecProbe, rewriteUnreachableProbes, shellQuote, tcpCheckScript } from "../../src/analysis/rewrite.js";
import { POD_SPEC_PATHS, podTemplateOf } from "../../src/analysis/workload.js";

const specs = { flags: DEFAULT_LISTEN_FLAGS, envVars: DEFAULT_LISTEN_ENV_VARS };
const c = (extra: Partial<Container>): Container => ({ name: "app", image: "example/app:1", ...extra });
const binds = (container: Container) => containerListeners(container, specs).map((l) => `${l.hostClass}:${l.host}:${l.port}`);
const pod = (spec: Partial<PodSpec>) => ({ apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "ns" }, spec: { containers: [], ...spec } });
const http = (port: number | string, extra: Record<string, unknown> = {}) => ({ httpGet: { path: "/healthz", port, ...extra } });

describe("listeners from the command line", () => {
  it.each([
    [["--listen-address=127.0.0.1:8080"], "loopback:127.0.0.1:8080"],
    [["--listen-address", "127.0.0.1:8080"], "loopback:127.0.0.1:8080"],
    [["-listen-address=localhost:8080"], "loopback:localhost:8080"],
    [["--web.listen-address=[::1]:9090"], "loopback:[::1]:9090"],
    [["--cluster.listen-address=127.0.0.1:9094"], "loopback:127.0.0.1:9094"],
    [["--http-address=localhost:10902"], "loopback:localhost:10902"],
    [["--grpc-address=127.0.0.1:10901"], "loopback:127.0.0.1:10901"],
    [["--secure-listen-address=127.0.0.1:8443"], "loopback:127.0.0.1:8443"],
    [["--insecure-listen-address=127.0.0.1:8080"], "loopback:127.0.0.1:8080"],
    [["--host=127.0.0.1", "--port=9000"], "loopback:127.0.0.1:9000"],
    [["--bind-address=127.0.0.1", "--secure-port=10259"], "loopback:127.0.0.1:10259"],
    [["--bind-address=127.0.0.1:9443"], "loopback:127.0.0.1:9443"],
    [["--metrics-bind-address=127.0.0.1:8080"], "loopback:127.0.0.1:8080"],
    [["--health-probe-bind-address=localhost:8081"], "loopback:localhost:8081"],
    [["--healthz-bind-address=127.0.0.1:10256"], "loopback:127.0.0.1:10256"],
    [["--metrics-addr=127.0.0.1:8080"], "loopback:127.0.0.1:8080"],
    [["-server.http-listen-address=127.0.0.1", "-server.http-listen-port=3101"], "loopback:127.0.0.1:3101"],
    [["-server.grpc-listen-address=127.0.0.1", "-server.grpc-listen-port=9095"], "loopback:127.0.0.1:9095"],
    [["--listen-metrics-urls=http://127.0.0.1:2381"], "loopback:127.0.0.1:2381"],
    [["--listen-address=::ffff:127.0.0.1"], "loopback:::ffff:127.0.0.1:null"],
    [["--listen-address=:8080"], "all-interfaces::8080"],
    [["--listen-address=0.0.0.0:8080"], "all-interfaces:0.0.0.0:8080"],
    [["--listen-address=[::]:8080"], "all-interfaces:[::]:8080"],
    [["--listen-address=$(POD_IP):8080"], "unknown:$(POD_IP):8080"],
  ])("%j", (args, expected) => expect(binds(c({ args }))).toEqual([expected]));

  it("reads repeated flags, command and args together, and shell-wrapped command lines", () => {
    expect(binds(c({ command: ["prometheus", "--web.listen-address=127.0.0.1:9090"], args: ["--web.listen-address=10.0.0.1:9091"] }))).toEqual([
      "loopback:127.0.0.1:9090",
      "other:10.0.0.1:9091",
    ]);
    expect(binds(c({ command: ["sh", "-c"], args: ["exec /bin/app --listen-address=127.0.0.1:7000 --verbose"] }))).toEqual(["loopback:127.0.0.1:7000"]);
  });

  it("reads a flag written with one or two dashes only, as Go's flag packages do, custom flags too", () => {
    expect(binds(c({ args: ["---listen-address=127.0.0.1:8080", "listen-address=127.0.0.1:8081"] }))).toEqual([]);
    expect(binds(c({ args: ["-listen-address", "127.0.0.1:8082", "--bind-address=127.0.0.1", "-secure-port", "+08443"] }))).toEqual([
      "loopback:127.0.0.1:8082",
      "loopback:127.0.0.1:8443",
    ]);
    // Spec names are read the same way: `---x` names the flag `-x`, which only `---x` spells.
    const custom = { flags: [{ name: "---x", form: "address" as const }, { name: "y", form: "address" as const, portFrom: "--p" }], envVars: [] };
    const customBinds = (args: string[]) => containerListeners(c({ args }), custom).map((l) => `${l.setting}=${l.host}:${l.port}`);
    expect(customBinds(["---x=127.0.0.1:1", "--x=127.0.0.3:3", "-y=127.0.0.2", "-p=2"])).toEqual(["---x=127.0.0.1:1", "-y=127.0.0.2:2"]);
  });

  it("does not read client URLs such as kube-rbac-proxy's --upstream", () => {
    expect(binds(c({ args: ["--upstream=http://127.0.0.1:8081/"] }))).toEqual([]);
  });

  it("applies known default ports only for the right image, and leaves unknown ports null", () => {
    // kube-state-metrics is a known program: its other listener keeps its default (`--telemetry-host ::`, 8081).
    expect(binds(c({ image: "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.13.0", args: ["--host=127.0.0.1"] }))).toEqual([
      "loopback:127.0.0.1:8080",
      "all-interfaces::::8081",
    ]);
    expect(binds(c({ image: "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.13.0", args: ["--telemetry-host=127.0.0.1"] }))).toEqual([
      "all-interfaces::::8080",
      "loopback:127.0.0.1:8081",
    ]);
    // Loki, Mimir and Tempo are known programs: their gRPC listener keeps its default (all interfaces, 9095).
    expect(binds(c({ image: "grafana/loki:3.0.0", args: ["-server.http-listen-address=127.0.0.1"] }))).toEqual(["loopback:127.0.0.1:3100", "all-interfaces::9095"]);
    expect(binds(c({ image: "grafana/mimir:2.12.0", args: ["-server.http-listen-address=127.0.0.1"] }))).toEqual(["loopback:127.0.0.1:8080", "all-interfaces::9095"]);
    expect(binds(c({ image: "grafana/tempo:2.5.0", args: ["-server.http-listen-address=127.0.0.1"] }))).toEqual(["loopback:127.0.0.1:3200", "all-interfaces::9095"]);
    expect(binds(c({ image: "example/other", args: ["--host=127.0.0.1"] }))).toEqual(["loopback:127.0.0.1:null"]);
  });
});

describe("listeners from the environment", () => {
  it.each([
    [[{ name: "GF_SERVER_HTTP_ADDR", value: "127.0.0.1" }], "loopback:127.0.0.1:3000"],
    [[{ name: "GF_SERVER_HTTP_ADDR", value: "127.0.0.1" }, { name: "GF_SERVER_HTTP_PORT", value: "3001" }], "loopback:127.0.0.1:3001"],
    [[{ name: "BIND_ADDRESS", value: "127.0.0.1:5000" }], "loopback:127.0.0.1:5000"],
    [[{ name: "LISTEN_ADDRESS", value: "localhost:7000" }], "loopback:localhost:7000"],
    [[{ name: "ASPNETCORE_URLS", value: "http://localhost:5000" }], "loopback:localhost:5000"],
  ])("%j", (env, expected) => expect(binds(c({ env }))).toEqual([expected]));

  it("expands $(VAR) from literal values, in order, and leaves unknown references alone", () => {
    const container = c({
      env: [
        { name: "HOST", value: "127.0.0.1" },
        { name: "ADDR", value: "$(HOST):9000" },
        { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
      ],
      args: ["--listen-address=$(ADDR)", "--web.listen-address=$(POD_IP):9090", "--http-address=$$(HOST):1"],
    });
    expect(literalEnv(container).get("ADDR")).toBe("127.0.0.1:9000");
    expect(binds(container)).toEqual(["loopback:127.0.0.1:9000", "unknown:$(POD_IP):9090", "unknown:$(HOST):1"]);
    expect(expandVars("$(A)-$(B)", new Map([["A", "x"]]))).toBe("x-$(B)");
  });

  it("tolerates wrong types in env and args", () => {
    const container = { name: "x", env: [null, 3, { name: 4 }, { name: "BIND_ADDRESS", value: 5 }], args: [1, null, "--listen-address=127.0.0.1:1"] } as unknown as Container;
    expect(binds(container)).toEqual(["loopback:127.0.0.1:1"]);
  });
});

describe("pod templates", () => {
  it.each(Object.entries(POD_SPEC_PATHS))("finds the pod spec of a %s", (kind, path) => {
    const spec = { containers: [{ name: "x" }] };
    const object: Record<string, unknown> = { kind, metadata: { name: "w" } };
    let node = object;
    path.slice(0, -1).forEach((seg) => {
      node[seg] = {};
      node = node[seg] as Record<string, unknown>;
    });
    node[path[path.length - 1]!] = spec;
    expect(podTemplateOf(object)?.spec).toBe(spec);
  });
  it("has nothing to check for other kinds and malformed objects", () => {
    for (const o of [{ kind: "ConfigMap" }, { kind: "Deployment", spec: [] }, { kind: "Pod", spec: "x" }, null, 7, [], { kind: 3 }]) {
      expect(podTemplateOf(o)).toBeNull();
      expect(findUnreachableProbes(o)).toEqual([]);
    }
  });
});

describe("probe targets", () => {
  it("covers httpGet, tcpSocket and grpc on containers and native sidecars only", () => {
    const spec: PodSpec = {
      containers: [c({ livenessProbe: http(8080), readinessProbe: { tcpSocket: { port: 9000 } }, startupProbe: { grpc: { port: 9001 } } })],
      initContainers: [
        c({ name: "sidecar", restartPolicy: "Always", livenessProbe: http(7000) }),
        c({ name: "init", livenessProbe: http(7001) }),
      ],
    };
    expect(probeTargets(spec).map((t) => `${t.container}/${t.probeKind}/${t.handler}/${t.port}`)).toEqual([
      "app/livenessProbe/httpGet/8080",
      "app/readinessProbe/tcpSocket/9000",
      "app/startupProbe/grpc/9001",
      "sidecar/livenessProbe/httpGet/7000",
    ]);
  });
  it("resolves named ports against the container's ports only", () => {
    const container = c({ ports: [{ name: "web", containerPort: 8080 }] });
    expect(resolvePort("web", container)).toBe(8080);
    expect(resolvePort("metrics", container)).toBeNull();
    expect(resolvePort("8080", container)).toBe(8080);
    expect(resolvePort(70000, container)).toBeNull();
  });
  it("ignores exec probes and malformed probes", () => {
    const spec = { containers: [c({ livenessProbe: { exec: { command: ["true"] } } }), { name: "bad", livenessProbe: 5, readinessProbe: { httpGet: { port: null } } }] } as unknown as PodSpec;
    expect(probeTargets(spec)).toEqual([]);
  });
});

describe("the verdict", () => {
  const verdict = (spec: Partial<PodSpec>) => findUnreachableProbes(pod(spec), DEFAULT_ANALYSIS_OPTIONS).map((f) => `${f.target.container}/${f.target.probeKind}:${f.reason}`);
  const loopback = (port = 8080) => [`--listen-address=127.0.0.1:${port}`];

  it("flags the seed case: loopback listener + httpGet on its port", () => {
    expect(verdict({ containers: [c({ args: loopback(), livenessProbe: http(8080), readinessProbe: http(8080) })] })).toEqual([
      "app/livenessProbe:loopback-only-listener",
      "app/readinessProbe:loopback-only-listener",
    ]);
  });
  it("flags tcpSocket and grpc probes too", () => {
    expect(verdict({ containers: [c({ args: loopback(), livenessProbe: { tcpSocket: { port: 8080 } }, startupProbe: { grpc: { port: 8080 } } })] })).toEqual([
      "app/livenessProbe:loopback-only-listener",
      "app/startupProbe:loopback-only-listener",
    ]);
  });
  it("sees across containers: a loopback bind in one container breaks another container's probe", () => {
    expect(verdict({ containers: [c({ args: loopback() }), c({ name: "other", readinessProbe: http(8080) })] })).toEqual(["other/readinessProbe:loopback-only-listener"]);
  });
  it("passes a port that is also bound on another address", () => {
    expect(verdict({ containers: [c({ args: [...loopback(), "--web.listen-address=:8080"], livenessProbe: http(8080) })] })).toEqual([]);
  });
  it("passes when the bind is unknown ($(POD_IP)) or on another port", () => {
    expect(verdict({ containers: [c({ args: ["--listen-address=$(POD_IP):8080"], livenessProbe: http(8080) })] })).toEqual([]);
    expect(verdict({ containers: [c({ args: loopback(8080), livenessProbe: http(8081) })] })).toEqual([]);
  });
  it("resolves named probe ports", () => {
    expect(verdict({ containers: [c({ args: loopback(), ports: [{ name: "web", containerPort: 8080 }], livenessProbe: http("web") })] })).toEqual([
      "app/livenessProbe:loopback-only-listener",
    ]);
    expect(verdict({ containers: [c({ livenessProbe: http("nope") })] })).toEqual(["app/livenessProbe:unresolvable-port-name"]);
  });
  it("handles host and hostNetwork", () => {
    expect(verdict({ containers: [c({ livenessProbe: http(10259, { host: "127.0.0.1" }) })] })).toEqual(["app/livenessProbe:loopback-host-without-host-network"]);
    expect(verdict({ hostNetwork: true, containers: [c({ args: ["--bind-address=127.0.0.1"], livenessProbe: http(10259, { host: "127.0.0.1" }) })] })).toEqual([]);
    // hostNetwork without host: the kubelet dials the node IP, the loopback bind is still unreachable
    expect(verdict({ hostNetwork: true, containers: [c({ args: loopback(), livenessProbe: http(8080) })] })).toEqual(["app/livenessProbe:loopback-only-listener"]);
    // an explicit non-loopback host is out of sight
    expect(verdict({ containers: [c({ args: loopback(), livenessProbe: http(8080, { host: "10.0.0.5" }) })] })).toEqual([]);
  });
  it("checks native sidecars' probes", () => {
    expect(verdict({ initContainers: [c({ name: "side", restartPolicy: "Always", args: loopback(), livenessProbe: http(8080) })] })).toEqual(["side/livenessProbe:loopback-only-listener"]);
  });
  it("filters containers by include/exclude patterns", () => {
    const spec = pod({ containers: [c({ name: "config-reloader", args: loopback(), livenessProbe: http(8080) })] });
    expect(findUnreachableProbes(spec, { ...DEFAULT_ANALYSIS_OPTIONS, excludeContainers: ["config-*"] })).toEqual([]);
    expect(findUnreachableProbes(spec, { ...DEFAULT_ANALYSIS_OPTIONS, includeContainers: ["prom*"] })).toEqual([]);
    expect(findUnreachableProbes(spec, { ...DEFAULT_ANALYSIS_OPTIONS, includeContainers: ["*reloader"] })).toHaveLength(1);
    expect(matchesName("a.b*", "a.bc")).toBe(true);
    expect(matchesName("a.b*", "axbc")).toBe(false);
  });
  it("describes the finding for humans", () => {
    const [f] = findUnreachableProbes(pod({ containers: [c({ name: "config-reloader", args: loopback(), livenessProbe: http(8080) })] }));
    expect(f!.message).toBe(
      'container "config-reloader" livenessProbe httpGet port 8080: bound only on loopback (--listen-address=127.0.0.1:8080), the kubelet dials the pod IP',
    );
    expect(f!.workload).toEqual({ kind: "Pod", name: "p", namespace: "ns" });
    expect(f!.fix).toContain("exec probe");
  });
});

describe("the rewrite", () => {
  const UPSTREAM =
    'if [ -x "$(command -v curl)" ]; then exec curl --fail --globoff http://localhost:8080/healthz; elif [ -x "$(command -v wget)" ]; then exec wget -q -O /dev/null http://localhost:8080/healthz; else exit 1; fi';
  it("reproduces the upstream prometheus-operator script, plus curl's --globoff", () => {
    expect(httpCheckScript({ scheme: "http", host: "localhost", port: 8080, path: "/healthz", headers: [] })).toBe(UPSTREAM);
  });
  it("handles HTTPS, headers, IPv6 and paths needing quotes", () => {
    const s = httpCheckScript({ scheme: "https", host: "::1", port: 8443, path: "/ready?full=1&x", headers: [{ name: "X-Token", value: "a b'c" }] });
    expect(s).toContain("exec curl --fail --globoff --insecure -H 'X-Token: a b'\"'\"'c' 'https://[::1]:8443/ready?full=1&x'");
    expect(s).toContain("exec wget -q -O /dev/null --no-check-certificate --header 'X-Token: a b'\"'\"'c' 'https://[::1]:8443/ready?full=1&x'");
    expect(shellQuote("plain/word")).toBe("plain/word");
  });
  it("builds a tcp check with nc then bash", () => {
    expect(tcpCheckScript("[::1]", 9000)).toBe(
      'if [ -x "$(command -v nc)" ]; then exec nc -z ::1 9000; elif [ -x "$(command -v bash)" ]; then exec bash -c \'</dev/tcp/::1/9000\'; else exit 1; fi',
    );
  });
  it("keeps every timing field and aims at the container's own bind", () => {
    const object = pod({
      containers: [c({ args: ["--listen-address=localhost:8080"], livenessProbe: { ...http(8080, { scheme: "HTTP" }), initialDelaySeconds: 5, timeoutSeconds: 2, periodSeconds: 7, successThreshold: 1, failureThreshold: 9, terminationGracePeriodSeconds: 30 } })],
    });
    const [f] = findUnreachableProbes(object);
    expect(rewriteToExecProbe(object.spec.containers[0]!.livenessProbe!, f!)).toEqual({
      exec: { command: ["sh", "-c", UPSTREAM] },
      initialDelaySeconds: 5,
      timeoutSeconds: 2,
      periodSeconds: 7,
      successThreshold: 1,
      failureThreshold: 9,
      terminationGracePeriodSeconds: 30,
    });
  });
  it("removes a grpc liveness probe, keeps unresolvable ports and grpc readiness, and leaves the input untouched", () => {
    const object = pod({
      containers: [c({ args: ["--grpc-address=127.0.0.1:9000"], livenessProbe: { grpc: { port: 9000 } }, readinessProbe: { grpc: { port: 9000 } }, startupProbe: http("nope") })],
    });
    const before = JSON.stringify(object);
    const { object: out, changes } = rewriteUnreachableProbes(object, findUnreachableProbes(object), "exec");
    expect(JSON.stringify(object)).toBe(before);
    expect(changes.map((x) => `${x.finding.target.probeKind}:${x.action}`)).toEqual(["livenessProbe:removed", "readinessProbe:kept", "startupProbe:kept"]);
    expect(changes[0]!.description).toContain("grpc probe cannot be expressed as an exec probe");
    expect(changes[1]!.description).toContain("not rewritten");
    expect(changes[2]!.description).toContain('no port named "nope"');
    const container = (out as typeof object).spec.containers[0]!;
    expect(container).not.toHaveProperty("livenessProbe");
    expect(container.readinessProbe).toEqual({ grpc: { port: 9000 } });
    expect(container.startupProbe).toEqual(http("nope"));
  });
  it("removes everything offending under the remove strategy", () => {
    const object = pod({ containers: [c({ args: ["--listen-address=127.0.0.1:8080"], livenessProbe: http(8080) })] });
    const { changes } = rewriteUnreachableProbes(object, findUnreachableProbes(object), "remove");
    expect(changes.map((x) => x.action)).toEqual(["removed"]);
  });
});
