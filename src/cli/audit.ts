import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { loadPolicy, validateSettings } from "../toolchain/evaluate.js";
import { auditWithPolicies, loadValidatingPolicies, rewriterSettings, settingsFor } from "../audit/policies.js";
import { readContextObjects } from "./host-context.js";
import { type Command, parseFlags, UsageError } from "./command.js";
import { fixFiles } from "./fix.js";
import { readManifests } from "./manifests.js";
import { type AuditReport, formatJson, formatPolicyReports, formatTable, sarifLog, summarize } from "./reports.js";
import { readModule, readSettings } from "./run.js";

const FORMATS = ["table", "json", "policyreport", "sarif"] as const;
type Format = (typeof FORMATS)[number];

const ROOT = join(import.meta.dirname, "..", "..");
const packageJson = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string; homepage?: string };

export const auditCommand: Command = {
  name: "audit",
  summary: "check manifests (files, folders, stdin, Lists) with the built policies",
  help: `Usage: loopback-probes audit [PATH…|-] [--format table|json|policyreport|sarif]
                             [--diff] [--fix] [--settings-path F | --settings-json J]
                             [--policy M | --bundle DIR] [--context FILE]…

Reads YAML (multi-document) and JSON files, folders (recursively: *.yaml, *.yml,
*.json), stdin ("-" or no path), and List objects (kubectl get -o json), and
evaluates every object with the built validating modules (every one in dist/:
reject-loopback-probes, reject-listenlocal-reloader-probes), the same artifacts
the cluster runs, through a request synthesized as Kubewarden's audit
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
  --policy M             one validating module (default: every validating module in --bundle)
  --bundle DIR           where the built modules are (default: dist)
  --context FILE         objects that are not audited but answer context-aware policies' host
                         calls (kubectl -o json, YAML); repeatable. The audited objects answer
                         them too, so a helm template render (CRs + operator Deployment) is
                         checked as a whole. Settings: the shared keys go to
                         reject-loopback-probes; other policies take a key named after them,
                         e.g. {"reject-listenlocal-reloader-probes": {"action": "warn"}}
  --rewrite-policy M     mutating module (default: dist/rewrite-loopback-probes.wasm)
  --policy-name N        policy name in PolicyReports (default: clusterwide-reject-loopback-probes)
  --mode protect|monitor severity in PolicyReports: the policy's, or "info" in monitor mode
  --quiet                no progress on stderr

Exit codes: 0 no findings, 1 findings, 2 bad usage or unreadable input (a missing
file, or a document that is not a Kubernetes object — reported with file and
document number; the other documents are still checked).`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      format: { type: "string", short: "o", default: "table" },
      diff: { type: "boolean", default: false },
      fix: { type: "boolean", default: false },
      "settings-path": { type: "string" },
      "settings-json": { type: "string" },
      policy: { type: "string" },
      bundle: { type: "string", default: "dist" },
      context: { type: "string", multiple: true },
      "rewrite-policy": { type: "string", default: "dist/rewrite-loopback-probes.wasm" },
      "policy-name": { type: "string", default: "clusterwide-reject-loopback-probes" },
      mode: { type: "string", default: "protect" },
      quiet: { type: "boolean", short: "q", default: false },
    });
    const format = values.format as Format;
    if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(", ")}, got ${values.format}`);
    if (values.mode !== "protect" && values.mode !== "monitor") throw new UsageError(`--mode must be protect or monitor, got ${values.mode}`);
    for (const p of [...(values.policy ? [values.policy] : []), ...(values.diff || values.fix ? [values["rewrite-policy"]] : [])])
      if (!existsSync(p)) throw new UsageError(`${p} not found: build the policies first (make build)`);

    const settings = readSettings(values);
    const policies = values.policy
      ? [{ name: basename(values.policy, ".wasm"), file: values.policy, policy: await loadPolicy(readModule(values.policy)) }]
      : await loadValidatingPolicies(values.bundle);
    if (policies.length === 0) throw new UsageError(`no validating modules in ${values.bundle}: build the policies first (make build)`);
    // PolicyReports name one policy (--policy-name); its metadata gives severity and category.
    const validator = (policies.find((p) => p.name === "reject-loopback-probes") ?? policies[0]!).policy;
    const names = policies.map((p) => p.name);
    const rewriter = values.diff || values.fix ? await loadPolicy(readModule(values["rewrite-policy"])) : undefined;
    for (const [policy, s, label] of [...policies.map((p) => [p.policy, settingsFor(p.name, settings, names), p.file] as const), ...(rewriter ? [[rewriter, rewriterSettings(settings, names), values["rewrite-policy"]] as const] : [])]) {
      const verdict = await validateSettings(policy, s);
      if (!verdict.valid) throw new UsageError(`settings rejected by ${label}: ${verdict.message ?? ""}`);
    }
    const context = readContextObjects(values.context ?? []);

    const manifests = readManifests(positionals);
    for (const u of manifests.unreadable) console.error(`loopback-probes audit: cannot read ${u.file}: ${u.message}`);

    const started = performance.now();
    let lastProgress = started;
    const { results, warnings } = await auditWithPolicies(manifests.objects, {
      policies,
      ...(rewriter ? { rewriter } : {}),
      settings,
      context,
      onProgress: (done, total) => {
        const now = performance.now();
        if (values.quiet || now - lastProgress < 2000) return;
        lastProgress = now;
        console.error(`audited ${done}/${total} objects (${((now - started) / 1000).toFixed(0)} s)`);
      },
    });
    if (!values.quiet) for (const w of warnings) console.error(`warning: ${w}`);
    const report: AuditReport = { results, errors: manifests.errors, files: manifests.files };

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

    if (values.fix) {
      for (const outcome of fixFiles(results)) console.error(`fixed ${outcome.objects} object${outcome.objects === 1 ? "" : "s"} in ${outcome.file}`);
      if (results.some((r) => r.patch && r.manifest.file === "<stdin>")) console.error("note: objects read from stdin cannot be fixed in place (use --diff)");
    }

    const s = summarize(report);
    if (s.fail > 0) return 1;
    if (manifests.unreadable.length > 0 || manifests.errors.length > 0) return 2;
    return 0;
  },
};
