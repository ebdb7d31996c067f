/**
 * `loopback-probes` — build, evaluate, audit, bench and publish the policies.
 * Each command lives in its own module; this file only dispatches.
 *
 * Every command is loaded when it runs (a process loads only the code of its
 * command: `audit`, `--version` and `--help` start without the registry,
 * signing or build code). The summaries are here for the overview; a test
 * holds them equal to each command's own.
 *
 * `bench` (and `build`'s toolchain, see build.ts) need the policy sources and the
 * build toolchain (esbuild, binaryen, Wizer, quickjs-wasi: dev dependencies): the
 * installed package runs every other command without them.
 */
import { closest, type Command, UsageError } from "./command.js";
import { isCheckout, packageJson } from "./package-info.js";
import { terminalText } from "../audit/terminal-text.js";

interface Entry {
  name: string;
  summary: string;
  /** The help of a command that may not load, so --help works where it cannot (bench outside a checkout). */
  help?: () => Promise<string>;
  /** Runs only in a source checkout (policy sources, build toolchain). */
  needsCheckout?: boolean;
  load(): Promise<Command>;
}

const versionCommand: Command = {
  name: "version",
  summary: "print the package version (also --version, -V)",
  help: `Usage: loopback-probes version

Prints the version of the installed package (the version of the bundled
policies is in each module's io.kubewarden.policy.version annotation).`,
  async run(argv) {
    if (argv.length > 0) throw new UsageError(`unexpected argument "${argv[0]}"`);
    console.log(packageJson.version);
    return 0;
  },
};

/** Every command, in the overview's order (`summary`: the command's own, see tests/unit/cli-commands.test.ts). */
export const commands: Entry[] = [
  { name: "build", summary: "build policies into annotated Kubewarden modules (dist/<name>.wasm)", load: async () => (await import("./build.js")).buildCommand },
  { name: "run", summary: "evaluate one admission request with a built module or a policy file (like kwctl run)", load: async () => (await import("./run.js")).runCommand },
  { name: "audit", summary: "check manifests (files, folders, stdin, Lists) with the built policies", load: async () => (await import("./audit.js")).auditCommand },
  { name: "push", summary: "push an annotated module to an OCI registry (like kwctl push)", load: async () => (await import("./registry.js")).pushCommand },
  { name: "pull", summary: "pull a module from an OCI registry, verifying its digest", load: async () => (await import("./registry.js")).pullCommand },
  { name: "publish", summary: "push every built policy as REGISTRY/<name>:v<io.kubewarden.policy.version>", load: async () => (await import("./registry.js")).publishCommand },
  { name: "sign", summary: "sign a policy in a registry with a key (cosign simple signing, verifiable by Kubewarden)", load: async () => (await import("./sign.js")).signCommand },
  { name: "verify", summary: "check a policy's signatures against keys or a Kubewarden verification config (like kwctl verify)", load: async () => (await import("./verify.js")).verifyCommand },
  {
    name: "sbom",
    summary: "write each policy's SPDX 2.3 SBOM (deterministic), signed with --sign-key (source checkout)",
    needsCheckout: true,
    load: async () => (await import("./sbom.js")).sbomCommand,
  },
  { name: "scaffold", summary: "generate artifacthub-pkg.yml files, a (Cluster)AdmissionPolicy manifest, or a verification config", load: async () => (await import("./scaffold.js")).scaffoldCommand },
  {
    name: "bench",
    summary: "time a policy against the floor and a Javy-semantics build (like kwctl bench; source checkout)",
    help: async () => (await import("./bench-help.js")).BENCH_HELP,
    needsCheckout: true,
    load: async () => (await import("./bench.js")).benchCommand,
  },
  { name: "version", summary: versionCommand.summary, load: async () => versionCommand },
];

/**
 * Examples for commands whose help text lives with another area's code; shown
 * after that help unless it already has its own "Examples:" section.
 */
const EXAMPLES: Record<string, string[]> = {
  run: [
    "loopback-probes run reject-loopback-probes -r request.json",
    "loopback-probes run registry://localhost:5000/policies/reject-loopback-probes:v0.1.0 --plain-http -r request.json",
    "loopback-probes run registry://ghcr.io/loopback-probe-policies/policies/rewrite-loopback-probes:v0.1.0 -r review.json --settings-json '{\"strategy\":\"remove\"}'",
  ],
  push: ["loopback-probes push dist/reject-loopback-probes.wasm registry://localhost:5000/policies/reject-loopback-probes:v0.1.0 --plain-http"],
  pull: [
    "loopback-probes pull registry://ghcr.io/loopback-probe-policies/policies/reject-loopback-probes:v0.1.0 -o reject.wasm",
    "loopback-probes pull registry://ghcr.io/loopback-probe-policies/policies/reject-loopback-probes:v0.1.0 -o reject.wasm -k policy-signing.pub",
  ],
  publish: [
    "docker login ghcr.io && loopback-probes publish ghcr.io/loopback-probe-policies/policies",
    "COSIGN_PASSWORD=… loopback-probes publish ghcr.io/loopback-probe-policies/policies --sign-key cosign.key",
  ],
  bench: ["loopback-probes bench --policy policies/reject-loopback-probes", "loopback-probes bench --corpus /work/shared/corpus", "loopback-probes bench --worst-case --shape one-port-binds-probes --shape url-list"],
  sbom: ["loopback-probes sbom -o release/ --sign-key policy-signing.key", "SOURCE_DATE_EPOCH=1700000000 loopback-probes sbom policies/reject-loopback-probes"],
  version: ["loopback-probes --version"],
};

function helpOf(command: Pick<Command, "name" | "help">): string {
  const examples = EXAMPLES[command.name];
  if (!examples || command.help.includes("\nExamples:")) return command.help;
  return `${command.help}\n\nExamples:\n${examples.map((e) => `  ${e}`).join("\n")}`;
}

function overview(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    `loopback-probes ${packageJson.version} — Kubewarden policies for kubelet probes aimed at loopback-only listeners`,
    "",
    "Usage: loopback-probes <command> [options]",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Examples:",
    "  loopback-probes audit k8s/                       check every manifest under k8s/",
    "  helm template . | loopback-probes audit -        check rendered templates",
    "  loopback-probes audit --format sarif -o probes.sarif k8s/",
    "",
    "Run `loopback-probes <command> --help` (or `loopback-probes help <command>`) for a command's options.",
  ].join("\n");
}

async function load(entry: Entry): Promise<Command> {
  try {
    return await entry.load();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND")
      throw new Error(
        `"${entry.name}" needs a source checkout with its dev dependencies (git clone …, then npm ci): ${(e as Error).message.split("\n")[0]}`,
      );
    throw e;
  }
}

function findEntry(name: string): Entry | undefined {
  const entry = commands.find((c) => c.name === name);
  if (!entry) {
    const guess = closest(name, commands.map((c) => c.name));
    console.error(`loopback-probes: unknown command "${name}"${guess ? `; did you mean "${guess}"?` : ""}\nRun \`loopback-probes --help\` for the list of commands.`);
  }
  return entry;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "help" && rest.length > 0) {
    // `help audit` is `audit --help`
    if (rest.length > 1) {
      console.error(`loopback-probes help: expected one command, got ${rest.length}`);
      return 2;
    }
    return main([rest[0]!, "--help"]);
  }
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(overview());
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-V") return versionCommand.run([]);
  const entry = findEntry(name);
  if (!entry) return 2;
  const beforeSeparator = rest.indexOf("--") >= 0 ? rest.slice(0, rest.indexOf("--")) : rest;
  const wantsHelp = beforeSeparator.includes("--help") || beforeSeparator.includes("-h");
  if (wantsHelp && entry.help !== undefined) {
    console.log(helpOf({ name: entry.name, help: await entry.help() }));
    return 0;
  }
  // --help still loads the command where it can (its text is in the package).
  if (entry.needsCheckout && !isCheckout && !wantsHelp) {
    console.error(`loopback-probes ${entry.name}: ${(await import("./build.js")).NEEDS_CHECKOUT(entry.name)}`);
    return 2;
  }
  let command: Command;
  try {
    command = await load(entry);
  } catch (e) {
    console.error(terminalText(`loopback-probes ${entry.name}: ${(e as Error).message}`));
    return 2;
  }
  if (wantsHelp) {
    console.log(helpOf(command));
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      // Messages quote files, manifests and policies: shown with their control characters escaped.
      console.error(terminalText(`loopback-probes ${command.name}: ${e.message}${e.hint ? `\nRun \`loopback-probes ${command.name} --help\` for usage.` : ""}`));
      return 2;
    }
    console.error(terminalText(`loopback-probes ${command.name}: ${e instanceof Error ? e.message : String(e)}`));
    return 1;
  }
}
