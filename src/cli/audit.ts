import { readFileSync } from "node:fs";
import { basename, dirname } from "node:path";
import { loadPolicy, validateSettings } from "../toolchain/evaluate.js";
import { AuditQueue, type AuditResult, auditExitCode, evaluationThreadsWhileReading, poolRunner, REWRITER_KEY } from "../audit/evaluate.js";
import { EvaluationPool } from "../toolchain/evaluation-pool.js";
import { auditPolicies, type BundledPolicy, loadValidatingPolicies, rewriterSettings, settingsFor } from "../audit/policies.js";
import { readContextObjects } from "./host-context.js";
import { type Command, outputHelp, OUTPUT_OPTION, parseFlags, UsageError, writeReport } from "./command.js";
import { fixFiles } from "../audit/fix.js";
import type { ManifestObject, ManifestSet } from "../audit/read.js";
import { defaultReaderThreads, readManifestsParallel } from "../audit/read-parallel.js";
import { wholeObjectsFor } from "../audit/selection.js";
import { KubernetesObjects } from "../toolchain/kubernetes-context.js";
import { type AuditReport, describesRewrite, location, objectLabel } from "../audit/report/common.js";
import { formatJson } from "../audit/report/json.js";
import { formatOpenReports } from "../audit/report/openreport.js";
import { formatPolicyReports } from "../audit/report/policyreport.js";
import type { ReportedPolicy, ScannerReportOptions } from "../audit/report/scanner-report.js";
import { sarifLog } from "../audit/report/sarif.js";
import { formatTable, useColor } from "../audit/report/table.js";
import { manifestSourceAccess, sourceRoot } from "../audit/sources.js";
import { bundledModule, loadModuleSource, packageJson, VERIFICATION_HELP, VERIFICATION_OPTIONS, VerificationFailed, verificationFromFlags } from "./module-source.js";
import { readSettings } from "./run.js";
import { terminalText } from "../audit/terminal-text.js";
import { tierForShortRuns } from "../toolchain/v8-tiering.js";

const FORMATS = ["table", "json", "report", "openreport", "policyreport", "sarif"] as const;
type Format = (typeof FORMATS)[number];
/** --report-kind: what `-f report` writes (the audit scanner's --report-kind; its charts spell it "openreports"). */
const REPORT_KINDS: Record<string, "openreport" | "policyreport"> = { openreport: "openreport", openreports: "openreport", policyreport: "policyreport" };

/**
 * --policy-name [MODULE=]NAME…: the (Cluster)AdmissionPolicy names the reports
 * credit; a bare NAME only when the audit has one validating policy. Default:
 * each policy's module name, the names deploy/ gives them.
 */
export function policyNames(values: readonly string[], modules: readonly string[]): Map<string, string> {
  const names = new Map(modules.map((m) => [m, m]));
  for (const v of values) {
    const eq = v.indexOf("=");
    const [module, name] = eq < 0 ? [modules.length === 1 ? modules[0]! : "", v] : [v.slice(0, eq), v.slice(eq + 1)];
    if (module === "") throw new UsageError(`--policy-name ${v}: the audit runs ${modules.length} policies (${modules.join(", ")}); give MODULE=NAME`);
    if (!names.has(module)) throw new UsageError(`--policy-name ${v}: no policy ${module} in this audit (${modules.join(", ")})`);
    if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(name)) throw new UsageError(`--policy-name ${v}: "${name}" is not a Kubernetes object name`);
    names.set(module, name);
  }
  return names;
}


export const auditCommand: Command = {
  name: "audit",
  summary: "check manifests (files, folders, stdin, Lists) with the built policies",
  help: `Usage: loopback-probes audit [PATH…|-] [-f table|json|report|openreport|policyreport|sarif] [-o FILE]
                             [--diff] [--fix] [--namespace N] [--settings-path F | --settings-json J]
                             [--policy M | --bundle DIR] [--context FILE]…
                             [--wide] [--no-color] [--mode monitor|protect]

Reads YAML (multi-document) and JSON files, folders (recursively: *.yaml, *.yml,
*.json), stdin ("-" or no path), and List objects (kubectl get -o json), and
evaluates every object with every validating module of the bundle
(reject-loopback-probes, reject-listenlocal-reloader-probes), the same artifacts
the cluster runs, through a request synthesized as Kubewarden's audit
scanner does (CREATE, uid from the object or generated, resource = the Kind,
no userInfo, no oldObject). Objects the policy's rules do not select are skipped.

Formats (-f, --format):
  table          findings grouped under "file — object", one row per probe: its
                 line:column, container, probe, port, the flag or env var that binds
                 the port, reason, fix ("fixed by --fix" once fixed). Fits the terminal;
                 not on a terminal nothing is cut (unless $COLUMNS); --wide:
                 file:line:column and object on every row, never cut. Then the
                 policies' warnings, what was not judged, errors, and a summary that
                 counts every skipped document by reason (--show-skipped lists them)
                 and warns when nothing was audited. Text from manifests and policies
                 has its control characters shown escaped (\x1b). Coloured only on a
                 terminal (not with --no-color or NO_COLOR)
  json           results with findings (line/column of each probe and bind), patches
                 (--diff/--fix), rewrite warnings, and bad documents with line/column
  report         the reports Kubewarden's audit scanner writes, of the kind --report-kind
                 names: OpenReports by default, what a current Kubewarden (v1.33 and
                 later) installs and its audit scanner writes
  openreport     openreports.io/v1alpha1 Report (namespaced kinds) / ClusterReport, as the
                 audit scanner builds them (internal/audit-scanner/report/openreports.go)
  policyreport   wgpolicyk8s.io/v1alpha2 PolicyReport / ClusterPolicyReport, the audit
                 scanner's layout before v1.33 (its charts no longer install the CRDs)
                 Both report kinds: one report per audited object, named by the object's
                 metadata.uid when the manifest has one (the scanner's name), else
                 <kind>-<name>; scope + ownerReferences; one result per policy that
                 judged the object, with that policy's name (clusterwide-N, or
                 namespaced-NS-N), category, severity and properties; the summary counts
                 the results. Labels: app.kubernetes.io/managed-by (--managed-by),
                 kubewarden.io/policyreport-version=v2,
                 app.kubernetes.io/created-by=loopback-probes-audit; never the scanner's
                 run-uid label. With managed-by=kubewarden (default) the scanner's next
                 run replaces or deletes them (live results win; an OpenReports scanner
                 also deletes every managed-by=kubewarden PolicyReport); any other value
                 keeps them out of its way. Rewrite warnings go to stderr. Not with --diff.
  sarif          SARIF 2.1.0 for code scanning: each finding at its probe's line and
                 column, the binding flag as a related location, URIs relative to the
                 repository root (%SRCROOT%; stdin is "stdin"), rule help in markdown,
                 malformed documents under their own rule, fixes with --diff

Options:
${outputHelp()}
  --diff                 also give, per failing object, what rewrite-loopback-probes changes:
                         the JSON Patch (table, json) or SARIF fixes (sarif); refused with
                         the report formats
  --fix                  rewrite the YAML/JSON files in place through rewrite-loopback-probes,
                         keeping comments and the formatting of untouched parts; only
                         files inside the paths given: a symlink leading outside them
                         (or a named file that is a symlink) is reported and left alone
  --fix-through-symlinks with --fix, also write the files such symlinks lead to (the
                         symlink itself is never replaced)
  --settings-path F      policy settings (YAML or JSON); "strategy" is passed to the rewrite only
  --settings-json J      the same, inline
  --policy M             one validating module instead of the bundle: a path or
                         registry://HOST/REPO[:TAG|@sha256:…] (pulled once into
                         ~/.cache/loopback-probes, digest-verified)
  --bundle DIR           the modules to audit with: every validating module in DIR
                         (default: the modules bundled with this CLI)
  --context FILE         objects that are not audited but answer context-aware policies'
                         host calls (kubectl -o json, YAML); repeatable. The audited
                         objects answer them too, so a helm template render (CRs +
                         operator Deployment) is checked as a whole. Settings: the shared
                         keys go to reject-loopback-probes; other policies take a key
                         named after them, e.g.
                         {"reject-listenlocal-reloader-probes": {"action": "warn"}}
  --rewrite-policy M     mutating module, the same way (default: the bundled
                         rewrite-loopback-probes module)
  --plain-http           pull registry:// modules over HTTP (local registries)
  -k, --verification-key, -a, --verification-annotation, --verification-config-path
                         check the signatures of the registry:// modules (--policy,
                         --rewrite-policy) before using them; see below
  --namespace N          namespace of objects that name none (default: default, as kubectl)
  --report-kind K        what -f report writes: openreport (default; also "openreports", as
                         the audit scanner's chart value) or policyreport
  --policy-name [MODULE=]N
                         the ClusterAdmissionPolicy name a policy has in the cluster: its
                         results name it clusterwide-N (default: the module's name, as in
                         deploy/); repeatable; a bare N only when one policy runs
  --policy-namespace NS  report AdmissionPolicies in NS instead (namespaced-NS-N)
  --mode monitor|protect the policies' mode for report severity: "info" in monitor mode
                         (default, as the shipped deploy/ manifests), else each policy's
                         io.kubewarden.policy.severity
  --managed-by V         app.kubernetes.io/managed-by of PolicyReports (default: kubewarden)
  --wide                 table: never cut cells to the terminal width
  --show-skipped         table: list every skipped document and object with the reason
  --no-color             table: no colour (also NO_COLOR=1)
  --timeout SECONDS      deadline per evaluation, as policy-server's (default 2; 0: none): an
                         evaluation past it is an error (code 500), as in the cluster
  --threads N            worker threads evaluating objects and, as many, reading them
                         (default: one per core evaluating; on up to 2 cores the main
                         thread reads, on more one fewer than the cores read; while
                         the main thread reads, one evaluating thread fewer, the rest
                         started when the reading ends with over 500 objects to judge);
                         reading and evaluating overlap
  --quiet                no progress on stderr (otherwise every 2 s: reading, then auditing)

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

${VERIFICATION_HELP}
  A local --policy file cannot be verified and is refused with these flags; the
  modules bundled with this CLI are part of the package you installed.

Exit codes (the first that applies):
  2  bad usage, a path that cannot be read (missing, no permission, a folder with
     no manifest, stdin with no document), a module whose signatures do not
     verify, or any error: the audit is incomplete (findings are still reported;
     SARIF executionSuccessful false)
  1  findings (with --fix: findings the rewrite did not fix)
  0  no findings (skipped documents do not count)

Examples:
  loopback-probes audit k8s/
  helm template charts/app | loopback-probes audit -
  loopback-probes audit -f sarif -o loopback-probes.sarif k8s/
  loopback-probes audit --diff k8s/statefulset.yaml
  loopback-probes audit --policy registry://ghcr.io/loopback-probe-policies/policies/reject-loopback-probes:v0.1.0 k8s/`,
  async run(argv) {
    // Before any module is compiled and before the reading runs (see v8-tiering.ts): an audit is over before TurboFan's code would pay.
    tierForShortRuns();
    const { values, positionals } = parseFlags(argv, {
      format: { type: "string", short: "f", default: "table" },
      ...OUTPUT_OPTION,
      diff: { type: "boolean", default: false },
      fix: { type: "boolean", default: false },
      "fix-through-symlinks": { type: "boolean", default: false },
      "show-skipped": { type: "boolean", default: false },
      "settings-path": { type: "string" },
      "settings-json": { type: "string" },
      policy: { type: "string" },
      bundle: { type: "string", default: dirname(bundledModule("reject-loopback-probes")) },
      context: { type: "string", multiple: true },
      "rewrite-policy": { type: "string", default: bundledModule("rewrite-loopback-probes") },
      "plain-http": { type: "boolean", default: false },
      "policy-name": { type: "string", multiple: true },
      "report-kind": { type: "string", default: "openreport" },
      "policy-namespace": { type: "string" },
      mode: { type: "string", default: "monitor" },
      namespace: { type: "string", short: "n", default: "default" },
      "managed-by": { type: "string", default: "kubewarden" },
      wide: { type: "boolean", default: false },
      "no-color": { type: "boolean", default: false },
      quiet: { type: "boolean", short: "q", default: false },
      timeout: { type: "string", default: "2" },
      threads: { type: "string" },
      ...VERIFICATION_OPTIONS,
    });
    if (!FORMATS.includes(values.format as Format)) throw new UsageError(`--format must be one of ${FORMATS.join(", ")}, got ${values.format}`);
    const reportKind = Object.hasOwn(REPORT_KINDS, values["report-kind"]) ? REPORT_KINDS[values["report-kind"]]! : undefined;
    if (!reportKind) throw new UsageError(`--report-kind must be openreport or policyreport, got ${values["report-kind"]}`);
    const format: Exclude<Format, "report"> = values.format === "report" ? reportKind : (values.format as Exclude<Format, "report">);
    const reports = format === "openreport" || format === "policyreport";
    if (values.mode !== "protect" && values.mode !== "monitor") throw new UsageError(`--mode must be protect or monitor, got ${values.mode}`);
    if (!/^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/.test(values["managed-by"]))
      throw new UsageError(`--managed-by must be a Kubernetes label value (at most 63 letters, digits, "-", "_", "."), got ${values["managed-by"]}`);
    if (values["fix-through-symlinks"] && !values.fix) throw new UsageError("--fix-through-symlinks goes with --fix");
    if (values.diff && reports)
      throw new UsageError(`--diff does not go with --format ${values.format}: a report has no place for a patch (use --format json or sarif for patches with the findings)`);
    const settings = readSettings(values);
    const verification = verificationFromFlags(values);
    if (verification && !values.policy?.startsWith("registry://") && !values["rewrite-policy"].startsWith("registry://"))
      throw new UsageError("signature verification applies to registry:// modules: give --policy registry://… (or --rewrite-policy registry://…)");
    const pull = { plainHttp: values["plain-http"] };
    // Only registry:// modules are verified (a local --policy with -k is refused by loadModuleSource).
    const verifyIfRemote = (spec: string) => ({ ...pull, ...(verification && (spec.startsWith("registry://") || spec === values.policy) ? { verification } : {}) });
    // A module that fails verification is an error (exit 2: nothing was audited), never "findings" (exit 1).
    const loadModule = async (spec: string) => {
      try {
        return await loadPolicy((await loadModuleSource(spec, verifyIfRemote(spec))).bytes);
      } catch (e) {
        if (e instanceof VerificationFailed) throw new UsageError(e.message, false);
        throw e;
      }
    };
    const bundle: BundledPolicy[] = values.policy
      ? [{ name: basename(values.policy.replace(/[:@].*$/, ""), ".wasm"), file: values.policy, policy: await loadModule(values.policy) }]
      : await loadValidatingPolicies(values.bundle);
    if (bundle.length === 0) throw new UsageError(`no validating modules in ${values.bundle}: build the policies first (make build) or give --policy`);
    const names = bundle.map((p) => p.name);
    // Reports credit each result to its own policy: the name it has in the cluster, its metadata's severity and category.
    const crNames = policyNames(values["policy-name"] ?? [], names);
    if (values["policy-namespace"] !== undefined && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(values["policy-namespace"]))
      throw new UsageError(`--policy-namespace must be a namespace name, got "${values["policy-namespace"]}"`);
    const reported = new Map<string, ReportedPolicy>(
      bundle.map((p) => [p.name, { name: crNames.get(p.name)!, ...(values["policy-namespace"] ? { namespace: values["policy-namespace"] } : {}), mode: values.mode as "protect" | "monitor", metadata: p.policy.metadata }]),
    );
    const rewriter = values.diff || values.fix ? await loadModule(values["rewrite-policy"]) : undefined;
    // Each module checks its settings on the evaluation threads, all at once; the first rejection (in this order) is the one said.
    const checkSettings = async (pool: EvaluationPool) => {
      const checks = [
        ...bundle.map((p) => [p.policy, settingsFor(p.name, settings, names), p.file, p.name] as const),
        ...(rewriter ? [[rewriter, rewriterSettings(settings, names), values["rewrite-policy"], REWRITER_KEY] as const] : []),
      ];
      const verdicts = await Promise.all(checks.map(([policy, s, , key]) => validateSettings(policy, s, { runner: poolRunner(pool, key) })));
      verdicts.forEach((verdict, i) => {
        if (!verdict.valid) throw new UsageError(`settings rejected by ${checks[i]![2]}: ${verdict.message ?? ""}`);
      });
    };
    const context = readContextObjects(values.context ?? []);
    if (!/^\d+$/.test(values.timeout)) throw new UsageError(`--timeout must be a whole number of seconds (0: none), got "${values.timeout}"`);
    const timeoutSeconds = Number(values.timeout);
    const threads = values.threads === undefined ? undefined : Number(values.threads);
    if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1 && threads <= 64)) throw new UsageError(`--threads must be a whole number from 1 to 64, got "${values.threads}"`);

    let stdinText: string | null = null;
    // Reading and evaluating overlap: the YAML is parsed on worker threads and each
    // object goes to the evaluation pool as soon as it is read. The modules run on
    // worker threads too, each instance reused between objects (memory and globals
    // restored): the same answers as a fresh instance, every core busy.
    const started = performance.now();
    let lastProgress = started;
    let reading: { parsedBytes: number; totalBytes: number; objects: number } | null = { parsedBytes: 0, totalBytes: 0, objects: 0 };
    let audited = 0;
    const progress = () => {
      const now = performance.now();
      if (values.quiet || now - lastProgress < 2000) return;
      lastProgress = now;
      const seconds = ((now - started) / 1000).toFixed(0);
      if (reading)
        console.error(`reading: ${(reading.parsedBytes / 1e6).toFixed(1)} of ${(reading.totalBytes / 1e6).toFixed(1)} MB, ${reading.objects} objects; audited ${audited} (${seconds} s)`);
      else console.error(`audited ${audited}/${queue.size} objects (${seconds} s)`);
    };
    const startThreads = evaluationThreadsWhileReading(defaultReaderThreads());
    const pool = new EvaluationPool(
      Object.fromEntries([...bundle.map((p) => [p.name, p.policy.bytes] as const), ...(rewriter ? [[REWRITER_KEY, rewriter.bytes] as const] : [])]),
      {
        ...(threads === undefined ? {} : { threads }),
        // While the main thread reads, its core is left to it (the others grow in after the reading: queue.readingEnded).
        ...(threads === undefined && startThreads !== undefined ? { startThreads } : {}),
        ...(timeoutSeconds > 0 ? { timeoutMs: timeoutSeconds * 1000 } : {}),
      },
    );
    // Context-aware policies answer from every audited object: their runs wait until all are read.
    const world = new KubernetesObjects(context);
    let worldComplete!: () => void;
    const queue = new AuditQueue({
      pool,
      validators: auditPolicies(bundle, settings, world),
      ...(rewriter ? { rewriter, rewriterSettings: rewriterSettings(settings, names) } : {}),
      namespace: values.namespace,
      hostCallsReady: new Promise<void>((resolve) => (worldComplete = resolve)),
      onProgress: (done) => {
        audited = done;
        progress();
      },
    });
    let results: AuditResult[];
    let manifests: ManifestSet;
    // The settings are checked (each module run once, ~0.2 s) while the files are read: no
    // object is evaluated before the check passes, and the reading stops when it fails.
    let settingsChecked = false;
    const readBeforeCheck: ManifestObject[][] = [];
    const stopReading = new AbortController();
    try {
      // Started before the reading (which may keep this thread busy a while before it first yields):
      // the check starts the evaluation threads.
      const checking = checkSettings(pool);
      checking.catch(() => undefined); // awaited below
      const read = readManifestsParallel(positionals, {
        ...(threads === undefined ? {} : { threads }),
        readStdin: () => {
          const bytes = readFileSync(0);
          stdinText = bytes.toString("utf8");
          return bytes;
        },
        onObjects: (objects) => (settingsChecked ? queue.add(objects) : readBeforeCheck.push([...objects])),
        signal: stopReading.signal,
        // What no policy selects is reported by its identity alone: only that crosses from the reader threads.
        keep: wholeObjectsFor(bundle.map((p) => p.policy.metadata)),
        onProgress: (p) => {
          reading = p;
          progress();
        },
      });
      // Handled here if it fails while the settings are checked; awaited below.
      const readEnded = read.then(() => undefined, () => undefined);
      try {
        await checking;
      } catch (e) {
        stopReading.abort();
        await readEnded;
        throw e;
      }
      settingsChecked = true;
      for (const objects of readBeforeCheck.splice(0)) queue.add(objects);
      manifests = await read;
      queue.readingEnded();
      reading = null;
      world.add(manifests.objects.map((o) => o.object));
      worldComplete();
      for (const s of manifests.skipped.filter((x) => x.reason === "unreadable-entry")) console.error(terminalText(`loopback-probes audit: skipped ${s.file}: ${s.message}`));
      results = await queue.results(manifests.objects);
    } finally {
      worldComplete();
      await pool.close();
    }
    // --fix first, so the report says what it fixed (and the exit code agrees with it).
    if (values.fix) {
      for (const outcome of fixFiles(results, manifests.sources, { roots: positionals, throughSymlinks: values["fix-through-symlinks"] })) {
        if (outcome.fixed.length > 0) console.error(terminalText(`fixed ${outcome.fixed.length} object${outcome.fixed.length === 1 ? "" : "s"} in ${outcome.file}`));
        for (const r of outcome.fixed) {
          if (r.patchResolves) r.fixed = true;
          else console.error(terminalText(`  ${objectLabel(r)}: findings remain after the rewrite`));
        }
        for (const { result, reason } of outcome.notFixed) console.error(terminalText(`  ${objectLabel(result)} (${location(result)}): ${reason}`));
        for (const r of outcome.fixedAs?.results ?? []) {
          console.error(terminalText(`  ${objectLabel(r)} (${location(r)}): the same file as ${outcome.fixedAs!.file}, fixed under that name`));
          if (r.patchResolves) r.fixed = true;
        }
      }
      if (results.some((r) => r.patch && r.manifest.file === "<stdin>")) console.error("note: objects read from stdin cannot be fixed in place (use --diff)");
    }

    const source = manifestSourceAccess(manifests.sources, () => stdinText);
    const report: AuditReport = { results, errors: manifests.errors, skipped: manifests.skipped, files: manifests.files, unreadable: manifests.unreadable, source };

    const emit = (text: string) => writeReport(text, values.output);
    const toStdout = (values.output ?? "-") === "-";
    // Errors, warnings and "nothing was audited" are in the report; when that is not a table on
    // stdout (a file, or a format for machines), the same lines go to stderr, so they are always
    // on one stream a person sees.
    const tableOnStdout = format === "table" && toStdout;
    if (format === "table") {
      const tty = toStdout && process.stdout.isTTY === true;
      const color = useColor({ isTTY: tty, noColorFlag: values["no-color"], env: process.env });
      // On a terminal the table fits its width; elsewhere (a CI log, a file) nothing is cut unless $COLUMNS says so.
      const columns = Number(process.env.COLUMNS);
      const width = tty && process.stdout.columns ? process.stdout.columns : Number.isInteger(columns) && columns > 0 ? columns : Infinity;
      emit(formatTable(report, { color, diff: values.diff, wide: values.wide, width, showSkipped: values["show-skipped"] }));
    } else if (format === "json") emit(formatJson(report));
    else if (reports) {
      const options: ScannerReportOptions = {
        policies: reported,
        managedBy: values["managed-by"],
        defaultNamespace: values.namespace,
        now: Number(process.env.SOURCE_DATE_EPOCH ?? Math.floor(Date.now() / 1000)),
      };
      emit(format === "openreport" ? formatOpenReports(report, options) : formatPolicyReports(report, options));
    }
    else {
      const log = sarifLog(report, { version: packageJson.version, informationUri: "https://github.com/loopback-probe-policies/loopback-probe-policies", sourceRoot: sourceRoot(process.cwd()), cwd: process.cwd(), stdinUri: "stdin", fixes: values.diff });
      emit(JSON.stringify(log, null, 2) + "\n");
    }
    if (!tableOnStdout) {
      for (const u of manifests.unreadable) console.error(terminalText(`error: cannot read ${u.file}: ${u.message}`));
      for (const e of manifests.errors) console.error(terminalText(`error: ${e.file}${e.line ? `:${e.line}` : ""}: ${e.message}`));
      for (const r of results) if (r.status === "error") console.error(terminalText(`error: ${location(r)}: ${objectLabel(r)}: ${r.message ?? "policy error"}`));
      if (!values.quiet) for (const r of results) for (const w of r.policyWarnings ?? []) console.error(terminalText(`warning: ${location(r)}: ${w}`));
      if (reports)
        for (const r of results) for (const w of r.rewriteWarnings ?? []) if (!describesRewrite(w)) console.error(terminalText(`warning: ${location(r)}: ${w}`));
      if (results.every((r) => r.status === "skip") && manifests.unreadable.length === 0)
        console.error(`warning: nothing was audited: no object a policy judges (${manifests.skipped.length + results.length} documents and objects skipped; the table's --show-skipped lists them)`);
    }
    const remaining = results.filter((r) => r.status === "fail" && !r.fixed);
    return auditExitCode({ unreadable: manifests.unreadable.length, errors: manifests.errors.length + results.filter((r) => r.status === "error").length, findings: remaining.length });
  },
};
