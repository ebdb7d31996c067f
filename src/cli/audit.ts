import { loadPolicy, validateSettings } from "../toolchain/evaluate.js";
import { auditObjects, validatorSettings } from "./audit-core.js";
import { type Command, outputHelp, OUTPUT_OPTION, parseFlags, UsageError, writeReport } from "./command.js";
import { fixFiles } from "./fix.js";
import { readManifests } from "./manifests.js";
import { type AuditReport, formatJson, formatPolicyReports, formatTable, sarifLog, summarize } from "./reports.js";
import { bundledModule, loadModuleSource, packageJson } from "./module-source.js";
import { readSettings } from "./run.js";

const FORMATS = ["table", "json", "policyreport", "sarif"] as const;
type Format = (typeof FORMATS)[number];

export const auditCommand: Command = {
  name: "audit",
  summary: "check manifests (files, folders, stdin, Lists) with the built policies",
  help: `Usage: loopback-probes audit [PATH…|-] [-f table|json|policyreport|sarif] [-o FILE]
                             [--diff] [--fix] [--settings-path F | --settings-json J]

Reads YAML (multi-document) and JSON files, folders (recursively: *.yaml, *.yml,
*.json), stdin ("-" or no path), and List objects (kubectl get -o json), and
evaluates every object with the built reject-loopback-probes module, the same
artifact the cluster runs, through a request synthesized as Kubewarden's audit
scanner does (CREATE, uid from the object or generated, resource = the Kind,
no userInfo, no oldObject). Objects the policy's rules do not select are skipped.

Formats (-f, --format):
  table          one row per finding (default; coloured on a terminal unless NO_COLOR)
  json           machine-readable results, findings and patches
  policyreport   wgpolicyk8s.io/v1alpha2 PolicyReport per namespace (+ ClusterPolicyReport
                 for cluster-scoped objects), as the audit scanner writes them; kubectl apply -f -
  sarif          SARIF 2.1.0 for code-scanning UIs

Options:
${outputHelp()}
  --diff                 also show, per failing object, the JSON Patch rewrite-loopback-probes applies
  --fix                  rewrite the YAML/JSON files in place through rewrite-loopback-probes,
                         keeping comments and the formatting of untouched parts
  --settings-path F      policy settings (YAML or JSON); "strategy" is passed to the rewrite only
  --settings-json J      the same, inline
  --policy M             validating module: a path or registry://HOST/REPO[:TAG|@sha256:…]
                         (pulled once into ~/.cache/loopback-probes, digest-verified;
                         default: the reject-loopback-probes module bundled with this CLI)
  --rewrite-policy M     mutating module, the same way (default: the bundled
                         rewrite-loopback-probes module)
  --plain-http           pull registry:// modules over HTTP (local registries)
  --policy-name N        policy name in PolicyReports (default: clusterwide-reject-loopback-probes)
  --mode protect|monitor severity in PolicyReports: the policy's, or "info" in monitor mode
  --quiet                no progress on stderr

Exit codes: 0 no findings, 1 findings, 2 bad usage or unreadable input (a missing
file, or a document that is not a Kubernetes object — reported with file and
document number; the other documents are still checked).

Examples:
  loopback-probes audit k8s/
  helm template charts/app | loopback-probes audit -
  loopback-probes audit -f sarif -o loopback-probes.sarif k8s/
  loopback-probes audit --diff k8s/statefulset.yaml
  loopback-probes audit --policy registry://ghcr.io/loopback-probe-policies/policies/reject-loopback-probes:v0.1.0 k8s/`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      format: { type: "string", short: "f", default: "table" },
      ...OUTPUT_OPTION,
      diff: { type: "boolean", default: false },
      fix: { type: "boolean", default: false },
      "settings-path": { type: "string" },
      "settings-json": { type: "string" },
      policy: { type: "string", default: bundledModule("reject-loopback-probes") },
      "rewrite-policy": { type: "string", default: bundledModule("rewrite-loopback-probes") },
      "policy-name": { type: "string", default: "clusterwide-reject-loopback-probes" },
      mode: { type: "string", default: "protect" },
      quiet: { type: "boolean", short: "q", default: false },
      "plain-http": { type: "boolean", default: false },
    });
    const format = values.format as Format;
    if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(", ")}, got ${values.format}`);
    if (values.mode !== "protect" && values.mode !== "monitor") throw new UsageError(`--mode must be protect or monitor, got ${values.mode}`);

    const settings = readSettings(values);
    const pull = { plainHttp: values["plain-http"] };
    const validator = await loadPolicy((await loadModuleSource(values.policy, pull)).bytes);
    const rewriter = values.diff || values.fix ? await loadPolicy((await loadModuleSource(values["rewrite-policy"], pull)).bytes) : undefined;
    for (const [policy, s, label] of [[validator, validatorSettings(settings), values.policy], ...(rewriter ? [[rewriter, settings, values["rewrite-policy"]] as const] : [])] as const) {
      const verdict = await validateSettings(policy, s);
      if (!verdict.valid) throw new UsageError(`settings rejected by ${label}: ${verdict.message ?? ""}`);
    }

    const manifests = readManifests(positionals);
    for (const u of manifests.unreadable) console.error(`loopback-probes audit: cannot read ${u.file}: ${u.message}`);

    const started = performance.now();
    let lastProgress = started;
    const results = await auditObjects(manifests.objects, {
      validator,
      ...(rewriter ? { rewriter } : {}),
      settings,
      onProgress: (done, total) => {
        const now = performance.now();
        if (values.quiet || now - lastProgress < 2000) return;
        lastProgress = now;
        console.error(`audited ${done}/${total} objects (${((now - started) / 1000).toFixed(0)} s)`);
      },
    });
    const report: AuditReport = { results, errors: manifests.errors, files: manifests.files };

    const emit = (text: string) => writeReport(text, values.output);
    if (format === "table") {
      const color = process.stdout.isTTY === true && !process.env.NO_COLOR && (values.output ?? "-") === "-";
      emit(formatTable(report, { color, diff: values.diff }));
    } else if (format === "json") emit(formatJson(report));
    else if (format === "policyreport")
      emit(
        formatPolicyReports(report, {
          policyName: values["policy-name"],
          metadata: validator.metadata,
          mode: values.mode,
          now: Number(process.env.SOURCE_DATE_EPOCH ?? Math.floor(Date.now() / 1000)),
        }),
      );
    else emit(JSON.stringify(sarifLog(report, { version: packageJson.version, informationUri: "https://github.com/loopback-probe-policies/loopback-probe-policies" }), null, 2) + "\n");

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
