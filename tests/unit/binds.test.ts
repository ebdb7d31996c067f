/**
 * Bind detection as programs parse their flags (Go flag/pflag, shells, inet_aton,
 * Kubernetes expansion) and attribution of binds to the program a container runs.
 */
import type { Container } from "kubernetes-types/core/v1";
import { describe, expect, it } from "vitest";
import { ContainerEnv, expandText, newBudget } from "../../src/analysis/env-expansion.js";
import { classifyHost, parseInetAton } from "../../src/analysis/host.js";
import { parseHostPort, parsePort } from "../../src/analysis/listen-address.js";
import { DEFAULT_LISTEN_ENV_VARS, DEFAULT_LISTEN_FLAGS } from "../../src/analysis/listen-specs.js";
import { containerListeners } from "../../src/analysis/listeners.js";
import { containerPrograms, ENTRYPOINT } from "../../src/analysis/programs.js";
import { findUnreachableProbes } from "../../src/analysis/reachability.js";
import { parseScript } from "../../src/analysis/shell/syntax.js";
import { unwrapOnce, wrapperNamed } from "../../src/analysis/wrappers.js";

const specs = { flags: DEFAULT_LISTEN_FLAGS, envVars: DEFAULT_LISTEN_ENV_VARS };
const c = (extra: Partial<Container>): Container => ({ name: "app", image: "example/app:1", ...extra });
const binds = (container: Container) => containerListeners(container, specs).map((l) => `${l.hostClass}:${l.host}:${l.port}`);
const sh = (script: string, extra: Partial<Container> = {}) => c({ command: ["/bin/sh", "-c", script], ...extra });
const programs = (container: Container) => containerPrograms(container, new ContainerEnv(container, newBudget())).programs.map((p) => p.argv.join(" "));

describe("numeric IPv4 forms as inet_aton reads them", () => {
  it.each([
    ["127.0.0.1", 0x7f000001],
    ["127.1", 0x7f000001],
    ["127.0.1", 0x7f000001],
    ["0x7f000001", 0x7f000001],
    ["0X7F000001", 0x7f000001],
    ["2130706433", 0x7f000001],
    ["0177.0.0.1", 0x7f000001],
    ["0x7f.1", 0x7f000001],
    ["017700000001", 0x7f000001],
    ["0", 0],
    ["10.1", 0x0a000001],
    ["255.255.255.255", 0xffffffff],
  ])("%s", (text, value) => expect(parseInetAton(text)).toBe(value));
  it.each(["", "1.2.3.4.5", "256.0.0.1", "08", "0x", "1..1", "127.0.0.1.", "4294967296", "1.2.3.256", "127.0.65536", "a.b.c.d", "0x1g"])("rejects %j", (text) =>
    expect(parseInetAton(text)).toBeNull(),
  );
  it.each(["127.1", "0x7f000001", "2130706433", "0177.0.0.1", "127.000.000.001"])("%s is loopback", (h) => expect(classifyHost(h)).toBe("loopback"));
  it("0177 is octal, 0127 is not loopback", () => {
    expect(classifyHost("0127.0.0.1")).toBe("other");
    expect(classifyHost("0")).toBe("all-interfaces");
  });
});

describe("Go port syntax", () => {
  it.each([
    ["8080", 8080],
    ["+8080", 8080],
    ["0008080", 8080],
    [" 9090 ", 9090],
    ["65535", 65535],
  ])("%j → %d", (text, port) => expect(parsePort(text)).toBe(port));
  it.each(["", "+", "0", "-8080", "65536", "80a", "0x50", "1".repeat(5000)])("%j → null", (text) => expect(parsePort(text)).toBeNull());
  it("host:port with Go ports", () => {
    expect(parseHostPort("127.0.0.1:+8080")).toEqual({ host: "127.0.0.1", port: 8080 });
    expect(parseHostPort("127.0.0.1:0008080")).toEqual({ host: "127.0.0.1", port: 8080 });
    expect(parseHostPort("2130706433")).toEqual({ host: "2130706433", port: null });
  });
});

describe("flags as Go flag/pflag parse them", () => {
  it("the last occurrence of a repeated flag wins", () => {
    expect(binds(c({ args: ["--listen-address=127.0.0.1:8080", "--listen-address=:8080"] }))).toEqual(["all-interfaces::8080"]);
    expect(binds(c({ args: ["--listen-address=:8080", "--listen-address=127.0.0.1:8080"] }))).toEqual(["loopback:127.0.0.1:8080"]);
    expect(binds(c({ command: ["app", "--host=0.0.0.0"], args: ["--host", "127.0.0.1", "--port=1", "--port=2"] }))).toEqual(["loopback:127.0.0.1:2"]);
  });
  it("repeatable flags (exporter-toolkit --web.listen-address) bind every occurrence", () => {
    expect(binds(c({ args: ["--web.listen-address=127.0.0.1:9090", "--web.listen-address=:9091"] }))).toEqual(["loopback:127.0.0.1:9090", "all-interfaces::9091"]);
  });
  it("-- ends the flags", () => {
    expect(binds(c({ command: ["app", "--", "--listen-address=127.0.0.1:8080"] }))).toEqual([]);
    expect(binds(c({ command: ["app", "--listen-address=127.0.0.1:8080", "--", "--listen-address=:8080"] }))).toEqual(["loopback:127.0.0.1:8080"]);
  });
  it("flags and positional arguments intersperse (pflag, cobra): OPA's run --server --addr", () => {
    expect(binds(c({ args: ["run", "--server", "--addr=localhost:8181"] }))).toEqual(["loopback:localhost:8181"]);
  });
  it.each([
    [["--addr=localhost:8181"], "loopback:localhost:8181"],
    [["--bind=127.0.0.1:8081"], "loopback:127.0.0.1:8081"],
    [["--listen=localhost:8080"], "loopback:localhost:8080"],
    [["--listen-address=127.1:8080"], "loopback:127.1:8080"],
    [["--listen-address=0x7f000001:8080"], "loopback:0x7f000001:8080"],
    [["--listen-address=2130706433:8080"], "loopback:2130706433:8080"],
    [["--listen-address=0177.0.0.1:8080"], "loopback:0177.0.0.1:8080"],
    [["--listen-address=127.0.0.1:+8080"], "loopback:127.0.0.1:8080"],
    [["--listen-address=127.0.0.1:0008080"], "loopback:127.0.0.1:8080"],
  ])("%j", (args, expected) => expect(binds(c({ args }))).toEqual([expected]));
  it("a value flag takes the next word whatever it is", () => {
    expect(binds(c({ args: ["--listen-address", "-x", "--listen-address=127.0.0.1:1"] }))).toEqual(["loopback:127.0.0.1:1"]);
  });
});

describe("Kubernetes $(VAR) expansion", () => {
  it("relaxed names (Kubernetes ≥ 1.30): anything up to the closing parenthesis", () => {
    const container = c({ env: [{ name: "1ADDR", value: "127.0.0.1:8080" }, { name: "my addr:x", value: "localhost:9000" }], args: ["--listen-address=$(1ADDR)", "--http-address=$(my addr:x)"] });
    expect(binds(container)).toEqual(["loopback:127.0.0.1:8080", "loopback:localhost:9000"]);
  });
  it("values see only earlier variables; later definitions replace earlier ones", () => {
    const env = new ContainerEnv(
      c({
        env: [
          { name: "B", value: "$(A)" },
          { name: "A", value: "1" },
          { name: "C", value: "$(A)-$(B)" },
          { name: "A", value: "2" },
        ],
      }),
      newBudget(),
    );
    expect(env.get("B")).toBe("$(A)");
    expect(env.get("C")).toBe("1-$(A)");
    expect(env.get("A")).toBe("2");
    expect(env.expand("$(A)$$(A)$(NOPE)$x$(")).toBe("2$(A)$(NOPE)$x$(");
  });
  it("the expansion bomb Vi=$(Vi-1)$(Vi-1) stays small and unknown", () => {
    const env = [{ name: "V0", value: "ab" }];
    for (let i = 1; i < 40; i++) env.push({ name: `V${i}`, value: `$(V${i - 1})$(V${i - 1})` });
    const budget = newBudget();
    const container = c({ env: [...env, { name: "LISTEN_ADDRESS", value: "$(V39)" }], args: ["--listen-address=$(V39)"] });
    const listeners = containerListeners(container, specs, budget);
    expect(listeners.every((l) => l.hostClass === "unknown" || l.port === null)).toBe(true);
    expect(budget.remaining).toBeGreaterThan(0);
    for (const l of listeners) expect(l.value.length).toBeLessThan(70_000);
  });
  it("a value over the length limit is unknown, not truncated", () => {
    expect(expandText("$(A)$(A)", () => "x".repeat(40_000), newBudget())).toBeUndefined();
    const budget = newBudget(100);
    expect(expandText("$(A)", () => "x".repeat(101), budget)).toBeUndefined();
    expect(budget.remaining).toBe(0);
    expect(expandText("$(A)", () => "y", budget)).toBeUndefined();
  });
  it("long chains stop at the depth limit", () => {
    const env = [{ name: "V0", value: "127.0.0.1:8080" }];
    for (let i = 1; i < 5000; i++) env.push({ name: `V${i}`, value: `$(V${i - 1})` });
    expect(binds(c({ env, args: ["--listen-address=$(V4999)"] }))).toEqual([expect.stringMatching(/^unknown:/)]);
    expect(binds(c({ env: env.slice(0, 10), args: ["--listen-address=$(V9)"] }))).toEqual(["loopback:127.0.0.1:8080"]);
  });
});

describe("shell wrappers", () => {
  it.each([
    ["exec /bin/app --listen-address='127.0.0.1:8080'", "loopback:127.0.0.1:8080"],
    ['exec /bin/app --listen-address="127.0.0.1":8080', "loopback:127.0.0.1:8080"],
    ["exec /bin/app --listen-address=127.0.0.1:8080;", "loopback:127.0.0.1:8080"],
    ["/bin/app --listen-address=127.0.0.1:8080 &\nwait", "loopback:127.0.0.1:8080"],
    ["mkdir -p /data && exec app --listen-address ${ADDR}", "loopback:127.0.0.1:9000"],
    ["exec app --listen-address $ADDR", "loopback:127.0.0.1:9000"],
    ['exec app --listen-address "${NOPE:-localhost:7000}"', "loopback:localhost:7000"],
    ["HOST=127.0.0.1\nexec app --listen-address=$HOST:8080 # comment --listen-address=:8080", "loopback:127.0.0.1:8080"],
    ["exec app --listen-address=\\\n127.0.0.1:8080 2>&1 >/dev/null", "loopback:127.0.0.1:8080"],
    ["exec app --listen-address=$(hostname -i):8080", "unknown:$(…):8080"],
    ["exec app --listen-address=${FROM_API}:8080", "unknown:${FROM_API}:8080"],
    // Not in the pod spec: unset, so the host is empty (every interface).
    ["exec app --listen-address=${UNSET}:8080", "all-interfaces::8080"],
    ["if [ -f /x ]; then exec app --listen-address=127.0.0.1:1; else exec app --listen-address=127.0.0.1:2; fi", "loopback:127.0.0.1:1|loopback:127.0.0.1:2"],
  ])("%j", (script, expected) =>
    expect(binds(sh(script, { env: [{ name: "ADDR", value: "127.0.0.1:9000" }, { name: "FROM_API", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } }] }))).toEqual(expected.split("|")),
  );

  it('passes "$@" to the program (sh -c SCRIPT $0 ARGS…)', () => {
    expect(binds(c({ command: ["sh", "-c", 'exec app "$@"', "sh", "--listen-address=127.0.0.1:8080"] }))).toEqual(["loopback:127.0.0.1:8080"]);
  });
  it("bash -ec, bash -o pipefail -c, busybox sh -c, nested shells", () => {
    expect(binds(c({ command: ["bash", "-ec", "exec app --listen-address=127.0.0.1:1"] }))).toEqual(["loopback:127.0.0.1:1"]);
    expect(binds(c({ command: ["bash", "-o", "pipefail", "-c", "exec app --listen-address=127.0.0.1:2"] }))).toEqual(["loopback:127.0.0.1:2"]);
    expect(binds(c({ command: ["busybox", "sh", "-c", "exec app --listen-address=127.0.0.1:3"] }))).toEqual(["loopback:127.0.0.1:3"]);
    expect(binds(c({ command: ["sh", "-c", "exec bash -c 'exec app --listen-address=127.0.0.1:4'"] }))).toEqual(["loopback:127.0.0.1:4"]);
  });
  it("Kubernetes expands $(VAR) before the shell sees the script", () => {
    expect(binds(sh("exec app --listen-address=$(ADDR)", { env: [{ name: "ADDR", value: "localhost:1" }] }))).toEqual(["loopback:localhost:1"]);
  });
});

describe("binds belong to the program the container runs", () => {
  it("pg_dumpall in a backup sidecar loop is not a bind", () => {
    const script = "while true; do pg_dumpall --host=localhost --port=5432 -U postgres > /backup/dump.sql; sleep 3600; done";
    expect(binds(sh(script))).toEqual([]);
    expect(programs(sh(script))).toEqual(["pg_dumpall --host=localhost --port=5432 -U postgres", "sleep 3600"]);
  });
  it("tctl in a setup container is not a bind, in a loop, as the last command, or as the command itself", () => {
    expect(binds(sh("until tctl --address 127.0.0.1:7233 cluster health; do sleep 1; done; tctl --address 127.0.0.1:7233 namespace register default"))).toEqual([]);
    expect(binds(sh("tctl --address 127.0.0.1:7233 namespace register default; sleep infinity"))).toEqual([]);
    expect(binds(c({ command: ["tctl", "--address", "127.0.0.1:7233", "namespace", "register"] }))).toEqual([]);
  });
  it("every command that can run is a candidate process; functions only when called, dead branches never", () => {
    expect(programs(sh("curl --listen-address=127.0.0.1:1 x && app --a"))).toEqual(["curl --listen-address=127.0.0.1:1 x", "app --a"]);
    expect(programs(sh("helper --listen-address=127.0.0.1:1; app --a"))).toEqual(["helper --listen-address=127.0.0.1:1", "app --a"]);
    expect(programs(sh("f() { srv --listen-address=127.0.0.1:1; }\napp --b"))).toEqual(["app --b"]);
    expect(programs(sh("x=$(srv --listen-address=127.0.0.1:1); app --c"))).toEqual(["srv --listen-address=127.0.0.1:1", "app --c"]);
    expect(programs(sh("(srv --listen-address=127.0.0.1:1); app --d"))).toEqual(["srv --listen-address=127.0.0.1:1", "app --d"]);
    expect(programs(sh("srv --listen-address=127.0.0.1:1 | tee /log"))).toEqual(["srv --listen-address=127.0.0.1:1", "tee /log"]);
    // MODE is not in the pod spec: unset, so only the default item runs.
    expect(programs(sh("case $MODE in server) exec srv --a ;; *) exec other ;; esac"))).toEqual(["other"]);
    expect(programs(sh("case $MODE in server) exec srv --a ;; *) exec other ;; esac", { env: [{ name: "MODE", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }] }))).toEqual(["srv --a", "other"]);
  });
  it("kube-rbac-proxy's --upstream and the reloader's --reload-url are client URLs", () => {
    expect(binds(c({ args: ["--secure-listen-address=0.0.0.0:8443", "--upstream=http://127.0.0.1:8081/"] }))).toEqual(["all-interfaces:0.0.0.0:8443"]);
    expect(binds(c({ args: ["--listen-address=:8080", "--reload-url=http://127.0.0.1:9090/-/reload"] }))).toEqual(["all-interfaces::8080"]);
  });
  it("process wrappers pass control on", () => {
    const unwrap = (argv: string[]) => unwrapOnce(wrapperNamed(argv[0]!.split("/").pop()!)!, argv, () => undefined).argv;
    expect(unwrap(["tini", "-g", "--", "app", "--x"])).toEqual(["app", "--x"]);
    expect(unwrap(["/usr/bin/env", "-i", "A=1", "app"])).toEqual(["app"]);
    expect(unwrap(["gosu", "nobody", "dumb-init", "--", "app"])).toEqual(["dumb-init", "--", "app"]);
    expect(programs(c({ command: ["gosu", "nobody", "dumb-init", "--", "app"] }))).toEqual(["app"]);
    expect(binds(c({ command: ["tini", "--", "app", "--listen-address=127.0.0.1:5"] }))).toEqual(["loopback:127.0.0.1:5"]);
  });
  it("without command, args go to the image's entrypoint", () => {
    expect(programs(c({ args: ["run", "--addr=localhost:8181"] }))).toEqual([`${ENTRYPOINT} run --addr=localhost:8181`]);
    expect(programs(c({ args: ["sh", "-c", "exec app --x"] }))).toEqual(["app --x"]);
  });
  it("a Postgres StatefulSet with a backup sidecar is not broken", () => {
    const object = {
      kind: "StatefulSet",
      metadata: { name: "pg" },
      spec: {
        template: {
          spec: {
            containers: [
              { name: "postgres", image: "postgres:16", livenessProbe: { tcpSocket: { port: 5432 } }, readinessProbe: { tcpSocket: { port: 5432 } } },
              { name: "backup", image: "postgres:16", command: ["/bin/bash", "-c"], args: ["while true; do pg_dumpall --host=localhost --port=5432 | gzip > /b/$(date +%s).gz; sleep 86400; done"] },
            ],
          },
        },
      },
    };
    expect(findUnreachableProbes(object)).toEqual([]);
  });
});

describe("shell parsing is linear and bounded", () => {
  it("parses a long script of many commands", () => {
    const script = Array.from({ length: 20_000 }, (_, i) => `cmd${i} --listen-address=127.0.0.1:${(i % 60000) + 1}`).join("; ");
    expect(parseScript(script).body.items).toHaveLength(20_000);
  });
  it("expansions draw from the container's work budget: past it, its binds are unknown", () => {
    const read = containerPrograms(sh("exec app $A $A $A $A"), new ContainerEnv(sh("", { env: [{ name: "A", value: "x ".repeat(400) }] }), newBudget(1000)));
    expect(read.programs).toEqual([]);
    expect(read.unread).toContain("more work than its bound");
  });
  it.each(["'unterminated", '"unterminated $(', "$(((((", "`", "a ) ) ) fi done esac }", "${", "exec 'x", "<<<", "& & | ;;"])("a script it cannot read leaves the container unread: %j", (script) => {
    const read = containerPrograms(sh(script), new ContainerEnv(sh(script), newBudget()));
    expect(read.programs).toEqual([]);
    expect(read.unread).toContain("a shell script this model does not read");
  });
});
