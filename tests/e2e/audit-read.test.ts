/**
 * `loopback-probes audit` on the manifests users really have: what kubectl
 * reads (go-yaml flow scalars, merge keys, aliases), what it would not
 * (errors with positions), what is not a manifest (skipped with the reason),
 * hostile folders (alias bombs, symlink loops) and `--fix` on odd files
 * (CRLF, BOM, aliases, files that changed). Through the built modules.
 */
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { auditExitCode, type AuditResult } from "../../src/audit/evaluate.js";
import { fixFiles } from "../../src/audit/fix.js";
import { parseManifestText, readManifests } from "../../src/audit/read.js";
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
      "cm.yaml unrendered-template",
      "deploy.yaml unrendered-template",
      "kustomization.yaml not-a-manifest",
      "probe-patch.yaml kustomize-patch",
      "replace-patch.yaml kustomize-patch",
      "settings.yaml not-an-object",
      "settings.yaml not-an-object",
      "values.yaml not-a-manifest",
    ]);
    expect(r.out.skipped.find((x: { file: string }) => x.file.endsWith("deploy.yaml")).message).toBe("unrendered template: render it first (helm template …)");
    expect(r.out.results.map((x: { name: string; status: string; skipReason?: string }) => `${x.name} ${x.status} ${x.skipReason ?? ""}`)).toEqual(["r skip not-selected"]);
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
    expect(r.stdout).toMatch(/warning: .*crlf\.yaml:2: Deployment team\/crlf: /); // the report carries the rewrite's warnings
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
    const result: AuditResult = { manifest: set.objects[0]!, status: "fail", findings: [], patch: handlerPatch(1) };
    const [outcome] = fixFiles([result], set.sources);
    expect(outcome!.notFixed).toEqual([]);
    const fixed = parseAllDocuments(readFileSync(file, "utf8"))[0]!.toJS({ maxAliasCount: 100 }) as { spec: { containers: Record<string, unknown>[] } };
    expect(fixed.spec.containers[1]!.livenessProbe).toEqual({ exec: { command: ["true"] }, periodSeconds: 10 }); // b: its own copy, handler in place
    expect(fixed.spec.containers[0]!.livenessProbe).toEqual({ httpGet: { path: "/healthz", port: 8080 }, periodSeconds: 10 }); // a: untouched

    // Removing a key that only a merge key provides cannot be written in YAML: explained, file untouched.
    writeFileSync(file, text);
    const again = readManifests([file]);
    const removal: AuditResult = { manifest: again.objects[0]!, status: "fail", findings: [], patch: [{ op: "remove", path: "/spec/containers/1/image" }] };
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
    const result: AuditResult = { manifest: set.objects[0]!, status: "fail", findings: [], patch: [{ op: "add", path: "/metadata/labels", value: { a: "b" } }] };
    const [outcome] = fixFiles([result], set.sources);
    expect(outcome!.fixed).toEqual([]);
    expect(outcome!.notFixed[0]!.reason).toMatch(/changed since it was audited/);
    expect(readFileSync(file, "utf8")).toContain("# edited meanwhile");
  });
});
