/**
 * The program knowledge base as README tables, generated from its rows
 * (src/analysis/programs-knowledge/) by scripts/generate-settings.ts, so the docs
 * say exactly what the analysis reads. tests/unit/generated.test.ts fails on drift.
 */
import { CLIENTS, IMAGES, LAUNCHERS, SERVERS } from "../src/analysis/programs-knowledge/index.js";
import { SHELLS, WRAPPERS } from "../src/analysis/wrappers.js";
import type { BindRow, ServerEntry, SettingSource, SettingTier } from "../src/analysis/programs-knowledge/types.js";

const code = (text: string) => `\`${text.replace(/`/g, "'")}\``;
const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

function sourceText(s: SettingSource, entry: ServerEntry): string {
  if ("flag" in s) return (typeof s.flag === "string" ? [s.flag] : s.flag).map(code).join("/");
  if ("env" in s) return s.template !== undefined ? `${code(s.env)} (as ${code(s.template.replace("{}", "$" + s.env))})` : code(s.env);
  if ("prop" in s) {
    if (entry.syntax === "go") return code(`cfg:${s.prop}=…`);
    if (entry.propOptions !== undefined) return `${code(`${entry.propOptions[0]} ${s.prop}=…`)}/${code(`--${s.prop}=…`)}`;
    return code(`--${s.prop}=…`);
  }
  if ("sysprop" in s) return code(`-D${s.sysprop}=…`);
  if ("envPattern" in s) return code(`${s.envPattern[0]}*${s.envPattern[1]}`);
  if ("propPattern" in s) return code(`--${s.propPattern[0]}*${s.propPattern[1]}=…`);
  if ("positional" in s) return `argument ${s.positional + 1}`;
  if ("configFlag" in s) return `a config file (${(typeof s.configFlag === "string" ? [s.configFlag] : s.configFlag).map(code).join("/")}) may set it`;
  if ("configEnv" in s) return `a config file (${code(s.configEnv)}) may set it`;
  if ("implicitConfig" in s) return `${cell(s.implicitConfig)} may set it`;
  const versions = [s.since !== undefined ? `≥ ${s.since}` : "", s.before !== undefined ? `< ${s.before}` : ""].filter((v) => v !== "").join(", ");
  return `default ${s.value === "" ? "all interfaces" : code(s.value)}${versions ? ` (${versions})` : ""}`;
}

function chain(tiers: readonly SettingTier[], entry: ServerEntry): string {
  return tiers
    .map((t) => (Array.isArray(t) ? (t as readonly SettingSource[]).map((s) => sourceText(s, entry)).join(" + ") : sourceText(t as SettingSource, entry)))
    .join(" › ");
}

function rowText(row: BindRow, entry: ServerEntry): string {
  const parts = [chain(row.address, entry)];
  if (row.port) parts.push(`port: ${chain(row.port, entry)}`);
  if (row.portOnlyHost !== undefined) parts.push(`a port alone binds ${code(row.portOnlyHost)}`);
  if (row.repeatable) parts.push("every occurrence binds");
  const when = [...(row.whenFlag ?? []).map(code), ...(row.whenEnv ?? []).map((e) => `${code(e)}=true`)];
  if (when.length > 0) parts.push(`only with ${when.join(" or ")}`);
  if (row.unlessFlag) parts.push(`not with ${row.unlessFlag.map(code).join(", ")}`);
  return parts.join("; ");
}

function serverRows(): string[] {
  const out: string[] = [];
  for (const entry of SERVERS) {
    const names = entry.names.map(code).join(", ");
    const refs = entry.sources.map((s) => cell(s.ref) + (s.versions ? ` (${s.versions})` : "")).join("; ");
    const lines: string[] = [];
    if (entry.syntax === "socat") lines.push("each `TCP-LISTEN:<port>` (`TCP4-`/`TCP6-LISTEN`, `-L` forms, `OPENSSL-LISTEN`) address, on `bind=<host>` or all interfaces");
    for (const row of entry.binds ?? []) lines.push(rowText(row, entry));
    for (const sub of entry.subcommands ?? []) for (const row of sub.binds) lines.push(`${code(sub.name)}: ${rowText(row, entry)}`);
    if (entry.detectEnv) lines.push(`also any program whose environment sets ${entry.detectEnv.map(code).join(", ")}`);
    if (entry.generic) lines.push("and the generic flags");
    out.push(`| ${names} | ${entry.syntax} | ${cell(lines.join("<br>"))} | ${refs} |`);
  }
  return out;
}

/** The README section: servers, images, launchers, clients. */
export function knowledgeTables(): string {
  const images = IMAGES.map((i) => {
    const adds = (i.adds ?? []).map((a) => `${code(`${a.option}${a.value !== undefined ? `=${a.fromEnv !== undefined ? `\${${a.fromEnv}:-${a.value}}` : a.value}` : ""}`)}${a.subcommand ? ` (for ${code(a.subcommand)})` : ""}${a.unless ? ` unless ${a.unless.map(code).join("/")}` : ""}`);
    const runs = i.kind === "none" ? "no entrypoint: args are the command" : i.kind === "script" ? `script running ${code(i.program)}` : code(i.program);
    return `| ${i.repositories.map(code).join(", ")} | ${runs}${i.prefix ? ` ${i.prefix.map(code).join(" ")}` : ""} | ${i.cmd ? code(i.cmd.join(" ")) : ""} | ${adds.join(", ")} |`;
  });
  const launchers = LAUNCHERS.map((l) => `${l.names.length > 4 ? `${l.names.slice(0, 4).map(code).join(", ")}, …` : l.names.map(code).join(", ")}${l.verb ? ` ${code(l.verb)}` : ""}`);
  const clients = CLIENTS.map((c) => `- ${c.kind}: ${c.names.map(code).join(", ")}`);
  return [
    "Servers (› separates sources in the program's order of precedence; the first that is set decides):",
    "",
    "| Program | Options | Listens on | Source |",
    "|---|---|---|---|",
    ...serverRows(),
    "",
    "Images (for containers without `command`: Kubernetes' `command` replaces the image's entrypoint, `args` its CMD):",
    "",
    "| Image | Entrypoint runs | CMD | The entrypoint adds |",
    "|---|---|---|---|",
    ...images,
    "",
    `Launchers read through: ${launchers.join("; ")}; \`php -S\` and \`php <script>\`; entrypoint scripts named \`*entrypoint*\` handed a command (their defaults then count as uncertain).`,
    "",
    "Clients (bind nothing, whatever their flags say):",
    "",
    ...clients,
    "",
    `Programs that run programs are read before any of the above, by the shell model (\`src/analysis/wrappers.ts\`, one row each with its option syntax): shells ${[...SHELLS].map(code).join(", ")} and \`busybox\`; wrappers ${WRAPPERS.map((w) => code(w.names[0]!)).join(", ")}.`,
  ].join("\n");
}
