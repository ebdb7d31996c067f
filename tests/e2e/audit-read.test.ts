/**
 * `loopback-probes audit` on the manifests users really have: what kubectl
 * reads (go-yaml flow scalars, merge keys, aliases), what it would not
 * (errors with positions), what is not a manifest (skipped with the reason),
 * hostile folders (alias bombs, symlink loops) and `--fix` on odd files
 * (CRLF, BOM, aliases, files that changed). Through the built modules.
 */
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { auditExitCode, type AuditResult } from "../../src/audit/evaluate.js";
import { fixFiles } from "../../src/audit/fix.js";
import { MAX_FLOW_NESTING, parseManifestText, readManifests } from "../../src/audit/read.js";
import { runCli, wasmPath } from "../helpers.js";

const modules = ["--policy", wasmPath("reject-loopback-probes"), "--rewrite-policy", wasmPath("rewrite-loopback-probes")];
const audit = (args: string[], input?: string) => runCli(["audit", ...modules, ...args], input === undefined ? {} : { input });
const auditJson = (args: string[], input?: string) => {
  const r = audit(["--format", "json", ...args], input);
  return { code: r.code, stderr: r.stderr, out: JSON.parse(r.stdout) };
};
const tempDir = () => mkdtempSync(join(tmpdir(), "lpp-audit-read-"));

/** A container that binds 127.0.0.1:8080 only, probed on 8080: always a finding. */
const LOOPBACK_CONTAINER = `      - name: reloader
        image: quay.io/prometheus-operator/prometheus-config-reloader:v0.74.0
        args: ["--listen-address=127.0.0.1:8080"]
        livenessProbe:
          httpGet:
            path: /healthz
            port: 8080
          periodSeconds: 10
          failureThreshold: 3
`;
const deployment = (name: string, apiVersion = "apps/v1") => `apiVersion: ${apiVersion}
kind: Deployment
metadata:
  name: ${name}
  namespace: team
spec:
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers:
${LOOPBACK_CONTAINER}`;

describe("audit reads manifests as kubectl does", () => {
  it("accepts quoted scalars and flow collections continued at the parent's indentation (go-yaml)", () => {
    // The argo-workflows / kubernetes-dashboard shape: `args: ['` … `']` with the closing line at the key's indentation.
    const text = `apiVersion: v1
kind: Pod
metadata:
  name: flow
  annotations:
    note: '[
    {"a": 1}
  ]'
spec:
  containers:
  - name: reloader
    image: busybox
    command: [sh, -c]
    args: ['
      exec prometheus-config-reloader --listen-address=127.0.0.1:8080
    ']
    livenessProbe:
      httpGet: {path: /healthz, port: 8080}
`;
    const parsed = parseManifestText(text, "flow.yaml");
    expect(parsed.errors).toEqual([]);
    expect((parsed.objects[0]!.object.metadata as { annotations: Record<string, string> }).annotations.note).toBe('[ {"a": 1} ]');
    const r = auditJson(["-"], text);
    expect(r.out.results[0]).toMatchObject({ status: "fail", findings: [expect.objectContaining({ container: "reloader", probe: "livenessProbe", port: 8080 })] });
    // Document markers still end a quoted scalar, as in go-yaml: that is an error with its position.
    const broken = parseManifestText("a: 'x\n---\nb: 1\n", "broken.yaml");
    expect(broken.errors[0]).toMatchObject({ kind: "yaml", line: expect.any(Number), column: expect.any(Number) });
  });

  it("applies YAML 1.1 merge keys, so a container built from an anchor is checked", () => {
    const text = `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: merged, namespace: team}
spec:
  selector: {matchLabels: {app: merged}}
  template:
    metadata: {labels: {app: merged}}
    spec:
      containers:
      - &base
        name: base
        image: busybox
      - <<: *base
        name: reloader
        args: ["--listen-address=127.0.0.1:8080"]
        livenessProbe: {httpGet: {path: /healthz, port: 8080}}
`;
    const r = auditJson(["-"], text);
    expect(r.code).toBe(1);
    expect(r.out.results[0].findings).toEqual([expect.objectContaining({ container: "reloader", probe: "livenessProbe" })]);
  });

  it("locate(): 1-based positions of JSON paths, through aliases and merge keys", () => {
    const text = `# comment
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: a
    livenessProbe: &probe
      httpGet: {port: 8080}
    readinessProbe: *probe
  - <<: {name: b, image: x}
    ports: [{containerPort: 80}]
`;
    const [pod] = parseManifestText(text, "p.yaml").objects;
    expect(pod!.locate([])).toEqual({ line: 2, column: 1 });
    expect(pod!.locate(["spec", "containers", 0, "livenessProbe"])).toEqual({ line: 8, column: 5 });
    expect(pod!.locate(["spec", "containers", 0, "readinessProbe", "httpGet", "port"])).toEqual({ line: 9, column: 17 }); // where the alias leads
    expect(pod!.locate(["spec", "containers", 1, "name"])).toEqual({ line: 11, column: 10 }); // from the merge key
    expect(pod!.locate(["spec", "containers", 1, "ports", 0])).toEqual({ line: 12, column: 13 });
    expect(pod!.locate(["spec", "containers", 7])).toBeNull();
    expect(pod!.locate(["spec", "nope"])).toBeNull();
  });

  it("an alias bomb is one file's error (named, with a line); the other files are still audited", () => {
    const dir = tempDir();
    const levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 9; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(", ")}]`);
    writeFileSync(join(dir, "a-bomb.yaml"), `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n${levels.map((l) => `  ${l}`).join("\n")}\n`);
    writeFileSync(join(dir, "b-broken.yaml"), deployment("broken"));
    const r = auditJson([dir]);
    expect(r.code).toBe(2);
    expect(r.out.errors).toEqual([expect.objectContaining({ file: expect.stringMatching(/a-bomb\.yaml$/), kind: "alias-limit", line: 1, message: expect.stringMatching(/more than 100/) })]);
    expect(r.out.results.filter((x: { status: string }) => x.status === "fail").map((x: { name: string }) => x.name)).toEqual(["broken"]);
  });

  it("dangling symlinks and symlink loops are reported and skipped; the rest is audited", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "broken.yaml"), deployment("broken"));
    symlinkSync(join(dir, "missing.yaml"), join(dir, "dangling.yaml"));
    symlinkSync("self.yaml", join(dir, "self.yaml"));
    mkdirSync(join(dir, "sub"));
    symlinkSync("..", join(dir, "sub", "up"));
    const r = auditJson([dir]);
    expect(r.code).toBe(1);
    expect(r.out.results.map((x: { name: string }) => x.name)).toEqual(["broken"]);
    const skipped = r.out.skipped.map((x: { file: string; message: string }) => `${x.file.split("/").slice(-2).join("/")}: ${x.message}`);
    expect(skipped).toEqual(expect.arrayContaining([expect.stringMatching(/dangling\.yaml: dangling symbolic link/), expect.stringMatching(/self\.yaml: symbolic link loop/), expect.stringMatching(/sub\/up: symbolic link loop/)]));
    expect(r.stderr).toMatch(/skipped .*dangling\.yaml: dangling symbolic link/);
  });
});

describe("audit statuses say what happened", () => {
  it("skips what is not a manifest, patches and unrendered templates; only findings make exit 1", () => {
    const dir = tempDir();
    const chart = join(dir, "chart");
    mkdirSync(join(chart, "templates"), { recursive: true });
    writeFileSync(join(chart, "Chart.yaml"), "apiVersion: v2\nname: c\nversion: 1.0.0\n");
    writeFileSync(join(chart, "values.yaml"), "image: {repository: x}\n");
    writeFileSync(join(chart, "templates", "deploy.yaml"), `{{- if .Values.enabled }}\n${deployment("{{ .Release.Name }}")}{{- end }}\n`);
    // A template only in a value: YAML reads it, so it is judged (here: a kind no policy selects).
    writeFileSync(join(chart, "templates", "cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ include \"c.name\" . }}\n");
    // Templates inside strings are data (alert annotations, injection templates): evaluated, not skipped.
    writeFileSync(join(dir, "rule.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: r}\ndata:\n  alert: Instance {{ $labels.instance }} {{ with $labels.cluster -}} on {{ . }} {{- end }} down\n  tpl: '{{ .Values.x }}'\n");
    const overlay = join(dir, "overlay");
    mkdirSync(overlay);
    writeFileSync(join(overlay, "kustomization.yaml"), "resources: [../base]\npatches:\n  - path: probe-patch.yaml\n");
    writeFileSync(join(overlay, "probe-patch.yaml"), deployment("patched"));
    writeFileSync(join(dir, "replace-patch.yaml"), deployment("replace").replace("      containers:\n", "      containers:\n      - $patch: replace\n"));
    writeFileSync(join(dir, "settings.yaml"), "just: settings\n---\n- a\n- list\n");
    const r = auditJson([dir]);
    expect(r.code).toBe(0);
    const reasons = r.out.skipped.map((x: { file: string; reason: string }) => `${x.file.split(/[\\/]/).pop()} ${x.reason}`).sort();
    expect(reasons).toEqual([
      "Chart.yaml not-a-manifest",
      "deploy.yaml unrendered-template",
      "kustomization.yaml not-a-manifest",
      "probe-patch.yaml kustomize-patch",
      "replace-patch.yaml kustomize-patch",
      "settings.yaml not-an-object",
      "settings.yaml not-an-object",
      "values.yaml not-a-manifest",
    ]);
    expect(r.out.skipped.find((x: { file: string }) => x.file.endsWith("deploy.yaml")).message).toBe("unrendered template: render it first (helm template …)");
    expect(r.out.results.map((x: { name: string; status: string; skipReason?: string }) => `${x.name} ${x.status} ${x.skipReason ?? ""}`)).toEqual([
      "$(unrendered=template) skip not-selected",
      "r skip not-selected",
    ]);
  });

  it("a template only inside values is judged with those values unknown: the other container's loopback bind is still found", () => {
    const text = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "x.fullname" . }}
  namespace: team
spec:
  template:
    spec:
      hostNetwork: {{ .Values.hostNetwork }}
      containers:
      - name: app
        image: "repo/app:{{ .Values.tag }}"
        args: ["--listen-address={{ .Values.addr }}:9090", "--web.listen-address=127.0.0.1:{{ .Values.port }}"]
        livenessProbe:
          httpGet: {path: /, port: {{ .Values.port }}}
        readinessProbe:
          httpGet: {path: /, port: 9090, host: "{{ .Values.host }}"}
      - name: reloader
        image: quay.io/prometheus-operator/prometheus-config-reloader:{{ .Chart.AppVersion }}
        args: ["--listen-address=127.0.0.1:8080"]
        livenessProbe:
          httpGet:
            path: /healthz
            port: 8080
`;
    const r = auditJson(["-"], text);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/Keys with collection values/);
    expect(r.out.skipped).toEqual([]);
    const [result] = r.out.results;
    expect(result.status).toBe("fail");
    expect(result.findings.map((f: { container: string; probe: string }) => `${f.container}/${f.probe}`)).toEqual(["reloader/livenessProbe"]);
    expect(result.notes).toEqual(
      expect.arrayContaining([expect.stringMatching(/^\d+ values are unrendered templates .*judged as unknown, never a finding$/), expect.stringMatching(/^not judged: container "app" livenessProbe: it holds a template value$/)]),
    );
    expect(result.message).toContain('container "reloader" livenessProbe');
    expect(result.message).not.toContain('container "app"');
  });

  it("a template where the policy needs structure (a list of containers) skips the object with the reason, never an error; a template YAML cannot read skips the document", () => {
    // A templated port entry is left out of what is judged: the literal loopback bind and its probe are still a finding.
    const port = deployment("ports").replace("        livenessProbe:", "        ports: [{containerPort: {{ .Values.port }}, name: http}]\n        livenessProbe:");
    const p = auditJson(["-"], port);
    expect(p.code).toBe(1);
    expect(p.out.results[0].findings).toHaveLength(1);
    const structure = deployment("containers").replace("      containers:\n", "      initContainers: {{ toYaml .Values.initContainers }}\n      containers:\n");
    const r = auditJson(["-"], structure);
    expect(r.code).toBe(0);
    expect(r.out.results[0]).toMatchObject({ status: "skip", skipReason: "unrendered-template" });
    expect(r.out.results[0].message).toMatch(/cannot be judged with its template values unknown .*render it first/);
    const structural = `{{- if .Values.enabled }}\n${deployment("guarded")}{{- end }}\n`;
    const s = auditJson(["-"], structural);
    expect(s.out.skipped.map((x: { reason: string }) => x.reason)).toEqual(["unrendered-template"]);
    expect(s.out.results).toEqual([]);
  });

  it("every path that cannot be read makes the audit incomplete: exit 2, SARIF executionSuccessful false, named on stderr", async () => {
    const dir = tempDir();
    const empty = join(dir, "empty");
    mkdirSync(join(empty, "docs"), { recursive: true });
    writeFileSync(join(empty, "docs", "README.md"), "# not a manifest\n");
    // A file that exists but cannot be read, even by root: a unix socket named like a manifest.
    const socketPath = join(dir, "socket.yaml");
    const server = createServer().listen(socketPath);
    await new Promise((resolve) => server.once("listening", resolve));
    try {
      const good = join(dir, "good.yaml");
      writeFileSync(good, deployment("fine").replace("127.0.0.1:8080", "0.0.0.0:8080"));
      for (const [args, input, what] of [
        [[good, join(dir, "missing.yaml")], undefined, /missing\.yaml: no such file or directory/],
        [[good, empty], undefined, /empty: no \*\.yaml, \*\.yml or \*\.json file in this folder or below/],
        [[good, socketPath], undefined, /socket\.yaml: .*ENXIO/],
        [["-"], "", /<stdin>: it held no YAML or JSON document/],
        [["-"], "# only a comment\n---\n", /<stdin>: it held no YAML or JSON document/],
      ] as [string[], string | undefined, RegExp][]) {
        const r = audit(["--format", "sarif", ...args], input);
        expect(r.code, args.join(" ")).toBe(2);
        expect(r.stderr).toMatch(what);
        const invocation = JSON.parse(r.stdout).runs[0].invocations[0];
        expect(invocation.executionSuccessful).toBe(false);
        expect(invocation.toolExecutionNotifications.map((n: { message: { text: string } }) => n.message.text).join("\n")).toMatch(what);
      }
    } finally {
      server.close();
    }
  });

  it("text from a manifest reaches the terminal with its control characters escaped, in the table and on stderr, colour or not", () => {
    const evil = "x\u001b[2J\u001b]0;pwned\u0007\u202e";
    const text = deployment("evil").replace("  name: evil\n", `  name: "evil\\e[2J\\e]0;pwned\\a\\u202e"\n`).replace("- name: reloader", '- name: "reloader\\e[1A\\e[2K"');
    for (const extra of [[], ["--no-color"], ["--wide"]]) {
      const r = audit(["-", ...extra], text);
      expect(r.code).toBe(1);
      expect(r.stdout).not.toMatch(/[\u001b\u0007\u202e]/);
      expect(r.stdout).toContain("evil\\x1b[2J\\x1b]0;pwned\\x07\\u202e");
      expect(r.stdout).toContain("reloader\\x1b[1A\\x1b[2K");
    }
    const json = auditJson(["-"], text);
    expect(json.out.results[0].name).toBe("evil\u001b[2J\u001b]0;pwned\u0007\u202e");
    const dir = tempDir();
    const missing = audit([join(dir, `gone${evil}.yaml`)]);
    expect(missing.code).toBe(2);
    expect(missing.stdout + missing.stderr).not.toMatch(/[\u001b\u0007\u202e]/);
    expect(missing.stdout).toContain("gonex\\x1b[2J");
  });

  it("a document nested too deep is an error in plain words, counted as one; the others are audited", () => {
    const text = `apiVersion: v1\nkind: ConfigMap\ndata: ${"[".repeat(20_000)}${"]".repeat(20_000)}\n---\n${deployment("after")}`;
    const r = audit(["-"], text);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/error: <stdin>:1:1 \(document 1\): nested too deep to read \(hundreds of levels of lists or mappings, or more\): not read\n/);
    expect(r.stdout + r.stderr).not.toMatch(/call stack/i);
    expect(r.stdout).toMatch(/1 finding in 1 object; 1 object in 1 file: 0 passed, 1 failed, 1 error \(1 unreadable document\)/);
  });

  it("flow collections nested past MAX_FLOW_NESTING: that document is nested too deep (the yaml package aborted the process near 850); the rest is read and audited", () => {
    // JSON 900 levels deep, then YAML flows 600 deep, then a workload: two errors and a finding, exit 2, no abort.
    const deepJson = `{"apiVersion": "v1", "kind": "ConfigMap", "data": ${"[".repeat(900)}${"]".repeat(900)}}`;
    const deepYaml = `apiVersion: v1\nkind: ConfigMap\ndata:\n  a: ${"{b: ".repeat(600)}1${"}".repeat(600)}\n`;
    const r = audit(["-"], `${deepJson}\n---\n${deepYaml}---\n${deployment("after")}`);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toMatch(/error: <stdin>:1:1 \(document 1\): nested too deep to read \(hundreds of levels of lists or mappings, or more\): not read\n/);
    expect(r.stdout).toMatch(/error: <stdin>:2:1 \(document 2\): nested too deep to read/); // placed at its start, the --- line
    expect(r.stdout).toMatch(/1 finding in 1 object; 1 object in 1 file: 0 passed, 1 failed, 2 errors \(2 unreadable documents\)/);
    // The JSON alone (this aborted the process: exit 134 and V8's "RegExpCompiler Allocation failed").
    const alone = audit(["-"], deepJson);
    expect(alone.code, alone.stderr.slice(0, 300)).toBe(2);
    expect(alone.stdout).toContain("(document 1): nested too deep to read");
    // At the bound, and brackets that are text (quoted, in comments): read.
    const atBound = `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"a": ${"[".repeat(MAX_FLOW_NESTING - 3)}${"]".repeat(MAX_FLOW_NESTING - 3)}, "b": "${"[".repeat(2000)}"}}\n# ${"{".repeat(2000)}\n`;
    const fine = audit(["-"], atBound);
    expect(fine.code, fine.stdout).toBe(0);
    expect(fine.stdout).toMatch(/1 object in 1 file: 0 passed, 0 failed, 0 errors, 1 skipped/);
  });

  it("a malformed object is an error (exit 2), not a finding", () => {
    const text = deployment("bad").replace("        livenessProbe:", "        env: [{value: x}]\n        livenessProbe:");
    const r = auditJson(["-"], text);
    expect(r.code).toBe(2);
    expect(r.out.results[0]).toMatchObject({ status: "error", errorKind: "malformed", findings: [] });
  });

  it("typed Lists give their items a kind; --namespace places namespace-less objects", () => {
    const list = {
      apiVersion: "apps/v1",
      kind: "StatefulSetList",
      items: [1, 2, 3].map((i) => ({
        metadata: { name: `s${i}` },
        spec: {
          selector: { matchLabels: { app: "s" } },
          template: {
            metadata: { labels: { app: "s" } },
            spec: { containers: [{ name: "c", image: "x", args: ["--listen-address=127.0.0.1:8080"], readinessProbe: { tcpSocket: { port: 8080 } } }] },
          },
        },
      })),
    };
    const r = auditJson(["--namespace", "team-a", "-"], JSON.stringify(list));
    expect(r.code).toBe(1);
    expect(r.out.results.map((x: { kind: string; status: string }) => `${x.kind} ${x.status}`)).toEqual(["StatefulSet fail", "StatefulSet fail", "StatefulSet fail"]);
    expect(r.out.results[0].notes).toEqual(['no namespace: evaluated in namespace "team-a"']);
    expect(r.out.results[0].message).toContain("team-a");
  });

  it("removed apiVersions are evaluated as their successors, and say so", () => {
    const text = [deployment("old-ext", "extensions/v1beta1"), deployment("old-apps", "apps/v1beta2")].join("---\n");
    const r = auditJson(["-"], text);
    expect(r.code).toBe(1);
    expect(r.out.results.map((x: { name: string; status: string }) => `${x.name} ${x.status}`)).toEqual(["old-ext fail", "old-apps fail"]);
    expect(r.out.results[0].notes).toEqual(["apiVersion extensions/v1beta1 was removed from Kubernetes: evaluated as apps/v1"]);
  });

  it("exit-code precedence: errors (2) over findings (1) over clean (0)", () => {
    expect(auditExitCode({ unreadable: 0, errors: 0, findings: 0 })).toBe(0);
    expect(auditExitCode({ unreadable: 0, errors: 0, findings: 3 })).toBe(1);
    expect(auditExitCode({ unreadable: 0, errors: 1, findings: 3 })).toBe(2);
    expect(auditExitCode({ unreadable: 1, errors: 0, findings: 0 })).toBe(2);
  });
});

describe("audit --fix on odd files", () => {
  it("keeps CRLF and the BOM, puts exec where httpGet was, reports the rewrite's warnings, exits 0", () => {
    const dir = tempDir();
    const file = join(dir, "crlf.yaml");
    const original = "\uFEFF# keep me\r\n" + deployment("crlf").replace(/\n/g, "\r\n");
    writeFileSync(file, original);
    const r = audit(["--fix", file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/crlf\.yaml — Deployment\/team\/crlf\n.*fixed by --fix\n/); // shown fixed, exit 0
    expect(r.stdout).toContain("1 finding in 1 object, all fixed by --fix");
    expect(r.stdout).not.toContain("warning:"); // a rewrite done is not a warning
    const fixed = readFileSync(file, "utf8");
    expect(fixed.startsWith("\uFEFF# keep me\r\n")).toBe(true);
    expect(fixed.replace(/\r\n/g, "")).not.toContain("\n"); // every line break is still CRLF
    const probe = fixed.split("\r\n").slice(fixed.split("\r\n").findIndex((l) => l.includes("livenessProbe:")));
    expect(probe[1]).toBe("          exec:"); // in httpGet's place, before the threshold fields
    expect(fixed.indexOf("exec:")).toBeLessThan(fixed.indexOf("periodSeconds"));
    expect(fixed).not.toContain("httpGet");
    // Every byte outside the replaced handler is the original's.
    const handler = "          httpGet:\r\n            path: /healthz\r\n            port: 8080\r\n";
    const [head, tail] = original.split(handler);
    expect(fixed.startsWith(head!)).toBe(true);
    expect(fixed.endsWith(tail!)).toBe(true);
    expect(audit([file]).code).toBe(0);
  });

  it("fixes probes reached through an alias (the alias becomes a copy) instead of crashing", () => {
    const dir = tempDir();
    const file = join(dir, "alias.yaml");
    const text = deployment("aliased").replace(
      "        livenessProbe:\n          httpGet:\n            path: /healthz\n            port: 8080\n          periodSeconds: 10\n          failureThreshold: 3\n",
      "        livenessProbe: &probe\n          httpGet: {path: /healthz, port: 8080}\n        readinessProbe: *probe\n",
    );
    writeFileSync(file, text);
    const before = auditJson([file]);
    expect(before.out.results[0].findings).toHaveLength(2);
    const r = audit(["--fix", file]);
    expect(r.code).toBe(0);
    const docs = parseAllDocuments(readFileSync(file, "utf8"));
    expect(docs[0]!.errors).toEqual([]);
    expect(audit([file]).code).toBe(0);
  });

  it("a probe that comes from a merge key is fixed in a copy; what cannot be applied faithfully is explained, not half-written", () => {
    const dir = tempDir();
    const file = join(dir, "merge.yaml");
    const text = `apiVersion: v1
kind: Pod
metadata: {name: m}
spec:
  containers:
  - &base
    name: a
    image: x
    livenessProbe:
      httpGet: {path: /healthz, port: 8080}
      periodSeconds: 10
  - <<: *base
    name: b
`;
    writeFileSync(file, text);
    const set = readManifests([file]);
    const handlerPatch = (i: number) => [
      { op: "remove", path: `/spec/containers/${i}/livenessProbe/httpGet` },
      { op: "add", path: `/spec/containers/${i}/livenessProbe/exec`, value: { command: ["true"] } },
    ] as AuditResult["patch"];
    const result: AuditResult = { manifest: set.objects[0]!, status: "fail", findings: [], verdicts: [], patch: handlerPatch(1) };
    const [outcome] = fixFiles([result], set.sources);
    expect(outcome!.notFixed).toEqual([]);
    const fixed = parseAllDocuments(readFileSync(file, "utf8"))[0]!.toJS({ maxAliasCount: 100 }) as { spec: { containers: Record<string, unknown>[] } };
    expect(fixed.spec.containers[1]!.livenessProbe).toEqual({ exec: { command: ["true"] }, periodSeconds: 10 }); // b: its own copy, handler in place
    expect(fixed.spec.containers[0]!.livenessProbe).toEqual({ httpGet: { path: "/healthz", port: 8080 }, periodSeconds: 10 }); // a: untouched

    // Removing a key that only a merge key provides cannot be written in YAML: explained, file untouched.
    writeFileSync(file, text);
    const again = readManifests([file]);
    const removal: AuditResult = { manifest: again.objects[0]!, status: "fail", findings: [], verdicts: [], patch: [{ op: "remove", path: "/spec/containers/1/image" }] };
    const [refused] = fixFiles([removal], again.sources);
    expect(refused!.fixed).toEqual([]);
    expect(refused!.notFixed[0]!.reason).toMatch(/merge key/);
    expect(readFileSync(file, "utf8")).toBe(text);
  });

  it("refuses to patch a file that changed since it was audited, and says so", () => {
    const dir = tempDir();
    const file = join(dir, "moving.yaml");
    writeFileSync(file, deployment("moving"));
    const set = readManifests([file]);
    writeFileSync(file, deployment("moving") + "# edited meanwhile\n");
    const result: AuditResult = { manifest: set.objects[0]!, status: "fail", findings: [], verdicts: [], patch: [{ op: "add", path: "/metadata/labels", value: { a: "b" } }] };
    const [outcome] = fixFiles([result], set.sources);
    expect(outcome!.fixed).toEqual([]);
    expect(outcome!.notFixed[0]!.reason).toMatch(/changed since it was audited/);
    expect(readFileSync(file, "utf8")).toContain("# edited meanwhile");
  });

  it("writes only inside the paths given: a symlink leading outside is reported and left alone, and a symlink is never replaced by a file", () => {
    const dir = tempDir();
    const repo = join(dir, "repo");
    const outside = join(dir, "outside");
    mkdirSync(join(repo, "k8s"), { recursive: true });
    mkdirSync(outside);
    const victim = join(outside, "victim.yaml");
    writeFileSync(victim, deployment("victim"));
    writeFileSync(join(repo, "k8s", "inside.yaml"), deployment("inside"));
    symlinkSync(victim, join(repo, "k8s", "evil.yaml")); // a file symlink leading out
    symlinkSync(outside, join(repo, "k8s", "sub")); // a folder symlink leading out: sub/victim.yaml
    writeFileSync(join(repo, "k8s", "target.yaml"), deployment("linked"));
    symlinkSync("target.yaml", join(repo, "k8s", "alias.yaml")); // a symlink inside, to a file inside
    const k8s = join(repo, "k8s");
    const r = audit(["--fix", k8s]);
    expect(r.code).toBe(1); // the two findings outside are not fixed
    expect(readFileSync(victim, "utf8")).toBe(deployment("victim"));
    expect(r.stderr).toMatch(/evil\.yaml.*really .*outside[\\/]victim\.yaml, outside the paths given .*--fix-through-symlinks/);
    expect(r.stderr).toMatch(/sub[\\/]victim\.yaml.*outside the paths given/);
    expect(readFileSync(join(k8s, "inside.yaml"), "utf8")).not.toContain("httpGet");
    // The symlink inside is still a symlink; the file it leads to was fixed once (reached under two names).
    expect(lstatSync(join(k8s, "alias.yaml")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(k8s, "alias.yaml"))).toBe("target.yaml");
    expect(readFileSync(join(k8s, "target.yaml"), "utf8")).not.toContain("httpGet");
    expect(r.stderr).toMatch(/the same file as .*(alias|target)\.yaml, fixed under that name/);
    // A named file that is itself a symlink to elsewhere: the same refusal.
    const named = audit(["--fix", join(k8s, "evil.yaml")]);
    expect(named.code).toBe(1);
    expect(named.stderr).toMatch(/outside the paths given/);
    expect(readFileSync(victim, "utf8")).toBe(deployment("victim"));
    // With the flag: the file outside is written, the symlinks stay symlinks.
    const allowed = audit(["--fix", "--fix-through-symlinks", k8s]);
    expect(allowed.code).toBe(0);
    expect(readFileSync(victim, "utf8")).not.toContain("httpGet");
    expect(lstatSync(join(k8s, "evil.yaml")).isSymbolicLink()).toBe(true);
    expect(lstatSync(join(k8s, "sub")).isSymbolicLink()).toBe(true);
    expect(audit(["--fix-through-symlinks", k8s]).code).toBe(2);
  });

  it("writes only the very file that was audited: one replaced by another file (same bytes) or by a symlink meanwhile is left alone", () => {
    const dir = tempDir();
    const file = join(dir, "swapped.yaml");
    writeFileSync(file, deployment("swapped"));
    const set = readManifests([file], {});
    const patch = [{ op: "add", path: "/metadata/labels", value: { a: "b" } }] as AuditResult["patch"];
    const result: AuditResult = { manifest: set.objects[0]!, status: "fail", findings: [], verdicts: [], patch };
    // Same bytes, another inode (an editor's save-by-rename, or an attacker's swap).
    writeFileSync(`${file}.new`, deployment("swapped"));
    renameSync(`${file}.new`, file);
    const [outcome] = fixFiles([result], set.sources, { roots: [dir] });
    expect(outcome!.fixed).toEqual([]);
    expect(outcome!.notFixed[0]!.reason).toMatch(/changed since it was audited/);
    // A folder on the way swapped for a symlink to elsewhere after the audit.
    const sub = join(dir, "sub");
    mkdirSync(sub);
    writeFileSync(join(sub, "x.yaml"), deployment("x"));
    const again = readManifests([dir]);
    const x = again.objects.find((o) => o.file.endsWith("x.yaml"))!;
    const elsewhere = join(tempDir(), "elsewhere");
    mkdirSync(elsewhere);
    writeFileSync(join(elsewhere, "x.yaml"), deployment("x"));
    renameSync(sub, `${sub}.old`);
    symlinkSync(elsewhere, sub);
    const [moved] = fixFiles([{ manifest: x, status: "fail", findings: [], verdicts: [], patch }], again.sources, { roots: [dir] });
    expect(moved!.fixed).toEqual([]);
    expect(moved!.notFixed[0]!.reason).toMatch(/outside the paths given|changed since it was audited/);
    expect(readFileSync(join(elsewhere, "x.yaml"), "utf8")).toBe(deployment("x"));
  });
});
