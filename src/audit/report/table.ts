/** `audit` output for people: findings in a table fitted to the terminal, then warnings, errors and the summary. */
import { stringify } from "yaml";
import type { FindingRecord } from "../../analysis/reachability.js";
import { terminalLine, terminalText } from "../terminal-text.js";
import { type AuditReport, describesRewrite, locateFindings, location, objectLabel, summarize } from "./common.js";

const ANSI = { bold: 1, dim: 2, red: 31, green: 32, yellow: 33, cyan: 36 } as const;
type Style = keyof typeof ANSI;

const REASON_TEXT: Record<string, string> = {
  "loopback-only-listener": "bound only on loopback",
  "loopback-host-without-host-network": "loopback host, no hostNetwork",
  "unresolvable-port-name": "port name not declared",
};
const SHORT_FIX: Record<string, string> = {
  "loopback-only-listener/httpGet": "exec probe (curl/wget)",
  "loopback-only-listener/tcpSocket": "exec probe (nc -z)",
  "loopback-only-listener/grpc": "bind non-loopback",
  "loopback-host-without-host-network/httpGet": "drop host; exec probe",
  "loopback-host-without-host-network/tcpSocket": "drop host; exec probe",
  "unresolvable-port-name/httpGet": "declare the port name",
  "unresolvable-port-name/tcpSocket": "declare the port name",
  "unresolvable-port-name/grpc": "declare the port name",
};
const shortFix = (f: FindingRecord) => SHORT_FIX[`${f.reason}/${f.handler}`] ?? "see message";

export interface TableOptions {
  color: boolean;
  diff: boolean;
  /** Terminal width in columns (Infinity: not a terminal, nothing cut); ignored with `wide`. */
  width: number;
  /** One row per finding with file and object on it, cells never cut. */
  wide: boolean;
  /** List every skipped document and object with its reason (otherwise only counted). */
  showSkipped?: boolean;
}

/** What each skip reason is, in the summary's words (singular, plural). */
const SKIP_WORDS: Record<string, [string, string]> = {
  "not-selected": ["not selected by the policy rules", "not selected by the policy rules"],
  "opt-out": ["by its opt-out annotation", "by their opt-out annotations"],
  "unrendered-template": ["unrendered template", "unrendered templates"],
  "not-a-manifest": ["not a manifest file", "not manifest files"],
  "kustomize-patch": ["kustomize patch", "kustomize patches"],
  "not-an-object": ["not a Kubernetes object", "not Kubernetes objects"],
  "unreadable-entry": ["dangling symlink or loop", "dangling symlinks or loops"],
};
/** What to do about each kind of skip, said once when nothing else was audited. */
const SKIP_ADVICE: Record<string, string> = {
  "unrendered-template": "render templates first (helm template … | loopback-probes audit -)",
  "kustomize-patch": "audit the output of kustomize build",
  "not-a-manifest": "Chart.yaml, values and kustomization files are not objects",
};

interface Column {
  header: string;
  /** Lower gives way first when the table is too wide. */
  giveWay: number;
  /** The narrowest the column may be cut to. */
  min: number;
  /** Cells are cut at the start ("…tail") rather than the end. */
  keepEnd?: boolean;
}
const GAP = 2;

/** Cut `text` to `width` characters with an ellipsis, at the end or (keepEnd) the start. */
export function truncate(text: string, width: number, keepEnd = false): string {
  if (text.length <= width) return text;
  if (width <= 1) return "…".slice(0, Math.max(0, width));
  return keepEnd ? `…${text.slice(text.length - width + 1)}` : `${text.slice(0, width - 1)}…`;
}

/**
 * Column widths that fit `width`: columns give way in `order` (least important
 * first), each down to its minimum; the table may then still be wider than the terminal.
 */
export function fitWidths(natural: readonly number[], mins: readonly number[], width: number, order: readonly number[]): number[] {
  const widths = [...natural];
  let excess = widths.reduce((a, b) => a + b, 0) + GAP * (widths.length - 1) - width;
  for (const i of order) {
    if (excess <= 0) break;
    const cut = Math.min(excess, Math.max(0, widths[i]! - mins[i]!));
    widths[i] = widths[i]! - cut;
    excess -= cut;
  }
  return widths;
}

/** Colour only on a terminal, and never with --no-color or a non-empty NO_COLOR (no-color.org). */
export function useColor(opts: { isTTY: boolean; noColorFlag: boolean; env: Record<string, string | undefined> }): boolean {
  return opts.isTTY && !opts.noColorFlag && !opts.env.NO_COLOR;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

interface TableRow {
  /** File and object, the group the row belongs to. */
  file: string;
  object: string;
  cells: { line: string; container: string; probe: string; port: string; bind: string; reason: string; fix: string };
  style: Style;
  /** Printed whole under the row: the policy's message when there is no structured finding. */
  note?: string;
}

function tableRows(report: AuditReport): TableRow[] {
  const rows: TableRow[] = [];
  // Notes name their policy once the audit ran more than one.
  const several = new Set(report.results.flatMap((r) => r.verdicts.map((v) => v.policy))).size > 1;
  for (const r of report.results.filter((x) => x.status === "fail" || x.status === "error")) {
    const base = { file: terminalLine(r.manifest.file), object: terminalLine(objectLabel(r)) };
    const located = locateFindings(report, r);
    // One row per finding of each policy, one per policy that rejected without one or failed: each its own.
    for (const v of r.verdicts) {
      if (v.status === "pass" || v.status === "skip") continue;
      if (v.status === "error" || v.findings.length === 0) {
        const error = v.status === "error";
        const cells = { line: `${r.manifest.line}`, container: "-", probe: "-", port: "-", bind: "-", reason: error ? "policy error" : "rejected", fix: r.fixed ? "fixed by --fix" : "see message" };
        const text = v.message || (error ? "policy error" : "rejected without a message");
        rows.push({ ...base, cells, style: error ? "yellow" : r.fixed ? "green" : "red", note: terminalText(several ? `${v.policy}: ${text}` : text) });
        continue;
      }
      for (const { finding: f, at } of located.filter((l) => l.policy === v.policy))
        rows.push({
          ...base,
          cells: {
            line: `${at.line}:${at.column}`,
            container: terminalLine(f.container),
            probe: `${f.probe.replace(/Probe$/, "")} ${f.handler}`,
            port: terminalLine(String(f.port)),
            bind: terminalLine(f.binds[0] ?? (f.host !== undefined ? `host: ${f.host}` : "-")),
            reason: REASON_TEXT[f.reason] ?? terminalLine(f.reason),
            fix: r.fixed ? "fixed by --fix" : shortFix(f),
          },
          style: r.fixed ? "green" : "red",
        });
    }
  }
  return rows;
}

/**
 * Findings for people. By default grouped under a "file — object" line so the
 * rows fit the terminal; `wide` puts file:line and the object on every row
 * (grep- and editor-friendly) and never cuts a cell. Then what was not judged
 * and why (warnings, notes, errors, skips), and a summary whose words match its
 * numbers. Every text from a manifest or a policy is escaped (terminal-text.ts)
 * before our colours are added.
 */
export function formatTable(report: AuditReport, opts: TableOptions): string {
  const paint = (style: Style, text: string) => (opts.color && text !== "" ? `\u001b[${ANSI[style]}m${text}\u001b[0m` : text);
  const rows = tableRows(report);
  const lines: string[] = [];
  if (rows.length > 0) {
    const columns: (Column & { cell: (row: TableRow) => string; status?: boolean })[] = [
      ...(opts.wide
        ? [
            { header: "LOCATION", giveWay: 9, min: 0, cell: (row: TableRow) => `${row.file}:${row.cells.line}` },
            { header: "OBJECT", giveWay: 9, min: 0, cell: (row: TableRow) => row.object },
          ]
        : [{ header: "LINE", giveWay: 9, min: 4, cell: (row: TableRow) => row.cells.line }]),
      { header: "CONTAINER", giveWay: 3, min: 9, cell: (row) => row.cells.container },
      { header: "PROBE", giveWay: 4, min: 9, cell: (row) => row.cells.probe },
      { header: "PORT", giveWay: 9, min: 4, cell: (row) => row.cells.port },
      { header: "BOUND BY", giveWay: 5, min: 12, cell: (row) => row.cells.bind },
      { header: "REASON", giveWay: 2, min: 10, cell: (row) => row.cells.reason, status: true },
      { header: "FIX", giveWay: 1, min: 10, cell: (row) => row.cells.fix },
    ];
    const table = rows.map((row) => columns.map((c) => c.cell(row)));
    const natural = columns.map((c, i) => Math.max(c.header.length, ...table.map((cells) => cells[i]!.length)));
    const order = columns.map((_, i) => i).sort((a, b) => columns[a]!.giveWay - columns[b]!.giveWay);
    const widths = opts.wide ? natural : fitWidths(natural, columns.map((c, i) => Math.min(c.min, natural[i]!)), opts.width, order);
    const fmt = (cells: string[], styleOf: (i: number) => Style | null) =>
      cells
        .map((c, i) => {
          const cut = truncate(c, widths[i]!, columns[i]!.keepEnd);
          const pad = i === cells.length - 1 ? "" : " ".repeat(widths[i]! - cut.length);
          const style = styleOf(i);
          // Paint the text only, so the padding stays outside the escape codes.
          return (style ? paint(style, cut) : cut) + pad;
        })
        .join(" ".repeat(GAP))
        .trimEnd();
    lines.push(fmt(columns.map((c) => c.header), () => "bold"));
    let group = "";
    rows.forEach((row, n) => {
      if (!opts.wide && `${row.file}\u0000${row.object}` !== group) {
        group = `${row.file}\u0000${row.object}`;
        lines.push(paint("cyan", truncate(`${row.file} — ${row.object}`, opts.width, true)));
      }
      lines.push(fmt(table[n]!, (i) => (columns[i]!.status ? row.style : null)));
      if (row.note) lines.push(`  ↳ ${row.note}`);
    });
    lines.push("");
  }
  const at = (r: AuditReport["results"][number]) => terminalLine(`${location(r)}: ${objectLabel(r)}`);
  // What the validating policies said while accepting or rejecting (the context-aware policy's "cannot decide").
  for (const r of report.results) for (const w of r.policyWarnings ?? []) lines.push(paint("yellow", `warning: ${at(r)}: ${terminalText(w)}`));
  // The rewrite's warnings about what it could not do (they name the object); a rewrite done is shown by --diff / --fix.
  for (const r of report.results) for (const w of r.rewriteWarnings ?? []) if (!describesRewrite(w)) lines.push(paint("yellow", `warning: ${terminalLine(location(r))}: ${terminalText(w)}`));
  // What was left unjudged inside an object (template values).
  for (const r of report.results) for (const n of r.notes ?? []) if (n.startsWith("not judged:")) lines.push(`note: ${at(r)}: ${terminalText(n)}`);
  for (const r of report.results) if (r.skipReason === "opt-out" || r.skipReason === "unrendered-template") lines.push(`skipped: ${at(r)}: ${terminalText(r.message ?? r.skipReason)}`);
  if (opts.showSkipped) {
    for (const s of report.skipped ?? []) lines.push(paint("dim", `skipped: ${terminalLine(`${s.file}${s.line ? `:${s.line}` : ""}`)}: ${s.reason}: ${terminalText(s.message)}`));
    for (const r of report.results) if (r.status === "skip" && r.skipReason === "not-selected") lines.push(paint("dim", `skipped: ${at(r)}: not-selected: no policy's rules select this kind`));
  }
  for (const u of report.unreadable ?? []) lines.push(paint("yellow", `error: cannot read ${terminalLine(u.file)}: ${terminalText(u.message)}`));
  for (const e of report.errors) {
    const where = report.source?.locateError(e);
    lines.push(paint("yellow", `error: ${terminalLine(e.file)}${where ? `:${where.line}:${where.column}` : ""}${e.documentIndex === null ? "" : ` (document ${e.documentIndex + 1})`}: ${terminalText(e.message)}`));
  }
  if (opts.diff) {
    for (const r of report.results.filter((x) => x.patch)) {
      lines.push(paint("cyan", `# ${terminalLine(objectLabel(r))} (${terminalLine(location(r))}): JSON Patch from rewrite-loopback-probes`));
      lines.push(terminalText(stringify(r.patch, { lineWidth: 0 }).trimEnd()));
      for (const w of r.rewriteWarnings ?? []) if (describesRewrite(w)) lines.push(`#   ${terminalText(w)}`);
      lines.push("");
    }
  }
  const s = summarize(report);
  const skippedTotal = Object.values(s.skipped).reduce((a, b) => a + b, 0);
  if (s.nothingAudited) {
    const advice = Object.keys(s.skipped).flatMap((k) => (SKIP_ADVICE[k] ? [SKIP_ADVICE[k]] : []));
    lines.push(
      paint(
        "yellow",
        `warning: nothing was audited: no object a policy judges${skippedTotal > 0 ? ` (${plural(skippedTotal, "document")} and objects skipped${opts.showSkipped ? "" : "; --show-skipped lists them"})` : ""}${advice.length > 0 ? `; ${advice.join("; ")}` : ""}`,
      ),
    );
  }
  const open = s.fail - s.fixed;
  // Structured findings and rejections that came without one are counted apart, as the JSON summary counts them.
  const found = [...(s.findings > 0 ? [plural(s.findings, "finding")] : []), ...(s.rejectionsWithoutFindings > 0 ? [`${plural(s.rejectionsWithoutFindings, "rejection")} without probe details`] : [])].join(" and ");
  const verdict =
    s.fail === 0
      ? paint(s.nothingAudited || s.error + s.badDocuments + s.unreadable > 0 ? "yellow" : "green", "no findings")
      : open === 0
        ? paint("green", `${found} in ${plural(s.fail, "object")}, all fixed by --fix`)
        : paint("red", `${found} in ${plural(s.fail, "object")}${s.fixed > 0 ? ` (${s.fixed} fixed by --fix, ${open} not)` : ""}`);
  const errors = s.error + s.badDocuments + s.unreadable;
  const skipWords = Object.entries(s.skipped)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([reason, n]) => `${n} ${(SKIP_WORDS[reason] ?? [reason, reason])[n === 1 ? 0 : 1]}`);
  const counts = [
    paint("green", `${s.pass} passed`),
    paint(open > 0 ? "red" : "dim", `${s.fail} failed${s.fixed > 0 ? ` (${s.fixed} fixed)` : ""}`),
    paint(errors > 0 ? "yellow" : "dim", `${plural(errors, "error")}${errors > s.error ? ` (${[s.error ? `${s.error} in objects` : "", s.badDocuments ? plural(s.badDocuments, "unreadable document") : "", s.unreadable ? plural(s.unreadable, "unreadable path") : ""].filter(Boolean).join(", ")})` : ""}`),
    paint(skippedTotal > 0 ? "yellow" : "dim", `${skippedTotal} skipped${skipWords.length > 0 ? ` (${skipWords.join(", ")}${opts.showSkipped ? "" : "; --show-skipped lists them"})` : ""}`),
    ...(s.policyWarnings ? [paint("yellow", plural(s.policyWarnings, "policy warning"))] : []),
    ...(s.warnings ? [paint("yellow", plural(s.warnings, "rewrite warning"))] : []),
  ];
  lines.push(`${verdict}; ${plural(s.objects, "object")} in ${plural(s.files, "file")}: ${counts.join(", ")}`);
  return lines.join("\n") + "\n";
}
