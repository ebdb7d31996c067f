import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";

export interface Command {
  name: string;
  summary: string;
  help: string;
  /** Returns the process exit code. */
  run(argv: string[]): Promise<number>;
}

/** Bad flags or arguments, or input that cannot be read: exit code 2 (with a pointer to --help unless hint is false). */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly hint = true,
  ) {
    super(message);
  }
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * parseArgs with our own messages: an unknown flag names the closest valid one
 * ("unknown flag --formt; did you mean --format?"), a missing value or a value
 * given to a switch says which flag. Everything after "--" is positional.
 */
export function parseFlags<T extends Options>(argv: string[], options: T, allowPositionals = true) {
  checkFlags(argv, options, allowPositionals);
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (e) {
    // checkFlags covers what parseArgs rejects; this is a fallback, in plain words.
    throw new UsageError((e instanceof Error ? e.message : String(e)).replace(/'/g, ""));
  }
}

function checkFlags(argv: string[], options: Options, allowPositionals: boolean): void {
  const names = Object.keys(options);
  const byShort = new Map<string, string>();
  for (const [name, o] of Object.entries(options)) if (o.short) byShort.set(o.short, name);
  const known = (name: string) => Object.hasOwn(options, name);
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === "--") return;
    let name: string;
    let inlineValue = false;
    if (token.startsWith("--")) {
      const eq = token.indexOf("=");
      name = eq >= 0 ? token.slice(2, eq) : token.slice(2);
      inlineValue = eq >= 0;
      if (!known(name)) {
        const guess = closest(name, names);
        throw new UsageError(`unknown flag --${name}${guess ? `; did you mean --${guess}?` : ""}`);
      }
    } else if (token.startsWith("-") && token.length > 1) {
      // -o FILE, -oFILE, or grouped switches like -qd
      let j = 1;
      for (;;) {
        const short = token[j]!;
        const long = byShort.get(short);
        if (long === undefined) {
          // One letter is one edit from every other: list the short flags instead of guessing.
          const shorts = [...byShort.keys()].map((k) => `-${k}`).concat("-h");
          throw new UsageError(`unknown flag -${short} (short flags here: ${shorts.join(", ")})`);
        }
        if (options[long]!.type === "string" || j === token.length - 1) {
          name = long;
          inlineValue = j < token.length - 1;
          break;
        }
        j++;
      }
    } else {
      if (!allowPositionals) throw new UsageError(`unexpected argument "${token}"`);
      continue;
    }
    const option = options[name]!;
    if (option.type === "boolean") {
      if (inlineValue) throw new UsageError(`--${name} is a switch and takes no value`);
    } else if (!inlineValue) {
      const value = argv[i + 1];
      if (value === undefined || (value.startsWith("-") && value !== "-")) throw new UsageError(`--${name} needs a value`);
      i++;
    }
  }
}

/** The name at edit distance ≤ 2 (≤ 1 for short names), or one the input is a prefix of. */
export function closest(input: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = c.startsWith(input) && input.length >= 2 ? 0.5 : distance(input, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  const limit = input.length <= 3 ? 1 : 2;
  return bestDistance <= limit ? best : undefined;
}

/** Damerau–Levenshtein (optimal string alignment) distance; flag names are short, so O(n·m) is fine. */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  return d[a.length]![b.length]!;
}

/** `-o, --output FILE`: the one definition every report-printing command uses. */
export const OUTPUT_OPTION = { output: { type: "string", short: "o" } } as const;
export const outputHelp = (what = "the report") => `  -o, --output FILE      write ${what} to FILE instead of stdout ("-": stdout)`;

/**
 * Write a command's report to --output FILE (created with its folders) or stdout.
 * The whole text is written at once, so a failed run leaves no half-written file
 * behind when FILE is new.
 */
export function writeReport(text: string, output: string | undefined): void {
  if (output === undefined || output === "-") {
    process.stdout.write(text);
    return;
  }
  try {
    mkdirSync(dirname(output), { recursive: true });
    writeFileSync(output, text);
  } catch (e) {
    throw new UsageError(`cannot write ${output}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
