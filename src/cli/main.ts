/**
 * `loopback-probes` — build, evaluate, audit, bench and publish the policies.
 * Each command lives in its own module; this file only dispatches.
 */
import { auditCommand } from "./audit.js";
import { benchCommand } from "./bench.js";
import { buildCommand } from "./build.js";
import { type Command, UsageError } from "./command.js";
import { pullCommand, publishCommand, pushCommand } from "./registry.js";
import { runCommand } from "./run.js";
import { scaffoldCommand } from "./scaffold.js";

const commands: Command[] = [buildCommand, runCommand, auditCommand, pushCommand, pullCommand, publishCommand, scaffoldCommand, benchCommand];

function overview(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    "loopback-probes — Kubewarden policies for kubelet probes aimed at loopback-only listeners",
    "",
    "Usage: loopback-probes <command> [options]",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Run `loopback-probes <command> --help` for a command's options.",
  ].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(overview());
    return name === undefined ? 2 : 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    console.error(`loopback-probes: unknown command "${name}"\n\n${overview()}`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(command.help);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`loopback-probes ${command.name}: ${e.message}\nRun \`loopback-probes ${command.name} --help\` for usage.`);
      return 2;
    }
    console.error(`loopback-probes ${command.name}: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

