import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { loadPolicy, validateSettings } from "../toolchain/evaluate.js";
import { type AuditResult, auditExitCode, auditObjects, validatorSettings } from "../audit/evaluate.js";
import { type Command, parseFlags, UsageError } from "./command.js";
import { fixFiles } from "../audit/fix.js";
import { readManifests } from "../audit/read.js";
import { type AuditReport, formatJson, formatPolicyReports, formatTable, location, objectLabel, sarifLog } from "./reports.js";
import { readModule, readSettings } from "./run.js";

const FORMATS = ["table", "json", "policyreport", "sarif"] as const;
type Format = (typeof FORMATS)[number];

const ROOT = join(import.meta.dirname, "..", "..");
const packageJson = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string; homepage?: string };

export const auditCommand: Command = {
  name: "audit",
  summary: "check manifests (files, folders, stdin, Lists) with the built policies",
  help: `Usage: loopback-probes audit [PATH…|-] [--format table|json|policyreport|sarif]
                             [--diff] [--fix] [--namespace N] [--settings-path F | --settings-json J]

Reads YAML (multi-document) and JSON files, folders (recursively: *.yaml, *.yml,
*.json), stdin ("-" or no path), and List objects (kubectl get -o json), and
evaluates every object with the built reject-loopback-probes module, the same
artifact the cluster runs, through a request synthesized as Kubewarden's audit
scanner does (CREATE, uid from the object or generated, resource = the Kind,
no userInfo, no oldObject). Objects the policy's rules do not select are skipped.

Formats:
  table          one row per finding (default; coloured on a terminal unless NO_COLOR)
  json           machine-readable results, findings and patches
  policyreport   wgpolicyk8s.io/v1alpha2 PolicyReport per namespace (+ ClusterPolicyReport
                 for cluster-scoped objects), as the audit scanner writes them; kubectl apply -f -
  sarif          SARIF 2.1.0 for code-scanning UIs

Options:
  --diff                 also show, per failing object, the JSON Patch rewrite-loopback-probes applies
  --fix                  rewrite the YAML/JSON files in place through rewrite-loopback-probes,
                         keeping comments and the formatting of untouched parts
  --settings-path F      policy settings (YAML or JSON); "strategy" is passed to the rewrite only
  --settings-json J      the same, inline
  --policy M             validating module (default: dist/reject-loopback-probes.wasm)
  --rewrite-policy M     mutating module (default: dist/rewrite-loopback-probes.wasm)
  --policy-name N        policy name in PolicyReports (default: clusterwide-reject-loopback-probes)
  --mode protect|monitor severity in PolicyReports: the policy's, or "info" in monitor mode
  --namespace N          namespace of objects that name none (default: default, as kubectl)
  --quiet                no progress on stderr

What each document becomes (JSON output: status, errorKind, skipReason):
  finding  an object whose probes can never succeed (status "fail")
  error    a document kubectl would not read (YAML syntax, alias bomb) or an
           object the policy cannot judge (malformed, or the policy failed)
  skipped  not a Kubernetes manifest (Chart.yaml, values*.yaml, kustomization),
           a kustomize patch, an unrendered Helm template, not an object, an
           object the policy's rules do not select, a dangling symlink or loop
  pass     everything else
Removed apiVersions (extensions/v1beta1, apps/v1beta1|2, batch/v1beta1) are
evaluated as their apps/v1 or batch/v1 successors.

Exit codes (the first that applies):
  2  bad usage, a path that cannot be read, or any error: the audit is incomplete
     (findings are still reported)
  1  findings (with --fix: findings the rewrite did not fix)
  0  no findings (skipped documents do not count)`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      format: { type: "string", short: "o", default: "table" },
      diff: { type: "boolean", default: false },
      fix: { type: "boolean", default: false },
      "settings-path": { type: "string" },
      "settings-json": { type: "string" },
      policy: { type: "string", default: "dist/reject-loopback-probes.wasm" },
      "rewrite-policy": { type: "string", default: "dist/rewrite-loopback-probes.wasm" },
      "policy-name": { type: "string", default: "clusterwide-reject-loopback-probes" },
      mode: { type: "string", default: "protect" },
      namespace: { type: "string", short: "n", default: "default" },
      quiet: { type: "boolean", short: "q", default: false },
    });
    const format = values.format as Format;
    if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(", ")}, got ${values.format}`);
    if (values.mode !== "protect" && values.mode !== "monitor") throw new UsageError(`--mode must be protect or monitor, got ${values.mode}`);
    for (const p of [values.policy, ...(values.diff || values.fix ? [values["rewrite-policy"]] : [])])
      if (!existsSync(p)) throw new UsageError(`${p} not found: build the policies first (make build)`);

    const settings = readSettings(values);
    const validator = await loadPolicy(readModule(values.policy));
    const rewriter = values.diff || values.fix ? await loadPolicy(readModule(values["rewrite-policy"])) : undefined;
    for (const [policy, s, label] of [[validator, validatorSettings(settings), values.policy], ...(rewriter ? [[rewriter, settings, values["rewrite-policy"]] as const] : [])] as const) {
      const verdict = await validateSettings(policy, s);
      if (!verdict.valid) throw new UsageError(`settings rejected by ${label}: ${verdict.message ?? ""}`);
    }

    const manifests = readManifests(positionals);
    for (const u of manifests.unreadable) console.error(`loopback-probes audit: cannot read ${u.file}: ${u.message}`);
    for (const s of manifests.skipped.filter((x) => x.reason === "unreadable-entry")) console.error(`loopback-probes audit: skipped ${s.file}: ${s.message}`);

    const started = performance.now();
    let lastProgress = started;
    const results = await auditObjects(manifests.objects, {
      validator,
      ...(rewriter ? { rewriter } : {}),
      settings,
      namespace: values.namespace,
      onProgress: (done, total) => {
        const now = performance.now();
        if (values.quiet || now - lastProgress < 2000) return;
        lastProgress = now;
        console.error(`audited ${done}/${total} objects (${((now - started) / 1000).toFixed(0)} s)`);
      },
    });
    const report: AuditReport = { results, errors: manifests.errors, skipped: manifests.skipped, files: manifests.files };

    if (format === "table") {
      const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
      process.stdout.write(formatTable(report, { color, diff: values.diff }));
    } else if (format === "json") process.stdout.write(formatJson(report));
    else if (format === "policyreport")
      process.stdout.write(
        formatPolicyReports(report, {
          policyName: values["policy-name"],
          metadata: validator.metadata,
          mode: values.mode,
          now: Number(process.env.SOURCE_DATE_EPOCH ?? Math.floor(Date.now() / 1000)),
        }),
      );
    else process.stdout.write(JSON.stringify(sarifLog(report, { version: packageJson.version, informationUri: "https://github.com/loopback-probe-policies/loopback-probe-policies" }), null, 2) + "\n");

    let remaining = results.filter((r) => r.status === "fail");
    if (values.fix) {
      const fixed = new Set<AuditResult>();
      for (const outcome of fixFiles(results, manifests.sources)) {
        if (outcome.fixed.length > 0) console.error(`fixed ${outcome.fixed.length} object${outcome.fixed.length === 1 ? "" : "s"} in ${outcome.file}`);
        for (const r of outcome.fixed) {
          if (r.patchResolves) fixed.add(r);
          else console.error(`  ${objectLabel(r)}: findings remain after the rewrite`);
        }
        for (const { result, reason } of outcome.notFixed) console.error(`  ${objectLabel(result)} (${location(result)}): ${reason}`);
      }
      for (const r of results)
        for (const w of r.rewriteWarnings ?? []) console.error(`warning: ${objectLabel(r)} (${location(r)}): ${w}`);
      if (results.some((r) => r.patch && r.manifest.file === "<stdin>")) console.error("note: objects read from stdin cannot be fixed in place (use --diff)");
      remaining = remaining.filter((r) => !fixed.has(r));
    }
    return auditExitCode({ unreadable: manifests.unreadable.length, errors: manifests.errors.length + results.filter((r) => r.status === "error").length, findings: remaining.length });
  },
};
