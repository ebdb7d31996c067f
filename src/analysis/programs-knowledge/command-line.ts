/**
 * Reading a program's arguments in its own option syntax (types.ts OptionSyntax),
 * keeping only the options a program's rows ask about. One pass over the words,
 * native string searches only, no regex: linear in the words and bounded by them.
 */
import type { OptionSyntax } from "./types.js";

export interface OptionHit {
  /** The option as written (`--bind`, `-b`). */
  written: string;
  /** Its value; undefined for an option given without one. */
  value: string | undefined;
  /** Position of the word, so aliases keep their order (Gunicorn's `-b` and `--bind` add to one list). */
  at: number;
}

export interface Property {
  written: string;
  value: string;
}

export interface CommandLine {
  /** Options by key (optionKey), every occurrence in order. Only the keys asked for. */
  options: Map<string, OptionHit[]>;
  /** Arguments that are neither options nor option values, in order. */
  positional: string[];
  /** Properties on the command line (Grafana `cfg:`, `-c name=value`, .NET `key=value`), by key; the last wins. */
  props: Map<string, Property>;
  /** Java system properties (`-Dname=value`), by name; the last wins. */
  sysprops: Map<string, Property>;
}

/** A key the caller wants hits for. */
export const WANTED = 1;
/** A key that takes a value (wanted ones do too, unless BARE). */
export const VALUE = 2;
/** A key that takes no value (conditions such as `--server`, `-dev`, `--bind_ip_all`). */
export const BARE = 4;
/** A key whose value is a `name=value` property (PostgreSQL's `-c`). */
export const PROP = 8;

/** What a reader needs to know of a program's options: one Map of flags per key, built once per entry (the snapshot keeps it). */
export interface ReadSpec {
  syntax: OptionSyntax;
  /** WANTED | VALUE | BARE | PROP by key (optionKey). */
  keys: ReadonlyMap<string, number>;
  /** Go: each key's written forms (`-k`, `--k`) → the key, so a word costs one lookup and no slicing. */
  written: ReadonlyMap<string, string> | null;
  /** Keys whose value is optional, with the value they mean when given alone. */
  optional: ReadonlyMap<string, string>;
  /** Long options not wanted become properties (`--listen-addresses=…` of PostgreSQL). */
  longOptionProps: boolean;
  /** `_` and `-` are the same in option names (mysqld, postgres). */
  dashUnderscore: boolean;
}

function flagsOf(spec: ReadSpec, key: string): number {
  return spec.keys.get(key) ?? 0;
}

/** The key takes a value: a value option, a wanted one or a property option, unless bare. */
export function takesValue(spec: ReadSpec, key: string): boolean {
  const f = flagsOf(spec, key);
  return (f & BARE) === 0 && (f & (VALUE | WANTED | PROP)) !== 0;
}

/** The key a written option is kept under: Go drops its dashes (`-x` and `--x` are one flag); others keep them. */
export function optionKey(syntax: OptionSyntax, written: string, dashUnderscore = false): string {
  let key = written;
  if (syntax === "go") {
    if (key.charCodeAt(0) === 45 /* - */) key = key.slice(key.charCodeAt(1) === 45 ? 2 : 1);
  } else if (syntax === "redis" || syntax === "dotnet") key = key.toLowerCase();
  return dashUnderscore && key.indexOf("_") >= 0 ? key.split("_").join("-") : key;
}

/** Shared by every line without properties (nearly all): never written, setProp swaps in a map of the line's own. */
const NO_PROPS: Map<string, Property> = new Map();

function emptyLine(): CommandLine {
  return { options: new Map(), positional: [], props: NO_PROPS, sysprops: NO_PROPS };
}

function record(line: CommandLine, key: string, hit: OptionHit): void {
  const list = line.options.get(key);
  if (list) list.push(hit);
  else line.options.set(key, [hit]);
}

/** `name=value` into the line's properties (or Java system properties); false when the text has no `=`. */
function setProp(line: CommandLine, which: "props" | "sysprops", text: string, written: string, dashUnderscore: boolean, lower: boolean): boolean {
  const eq = text.indexOf("=");
  if (eq <= 0) return false;
  let key = text.slice(0, eq);
  if (lower) key = key.toLowerCase();
  if (dashUnderscore && key.indexOf("_") >= 0) key = key.split("_").join("-");
  if (line[which] === NO_PROPS) line[which] = new Map();
  line[which].set(key, { written, value: text.slice(eq + 1) });
  return true;
}

/** Read `words` (the arguments after the program and its subcommand) in the spec's syntax. */
export function readCommandLine(words: readonly string[], spec: ReadSpec): CommandLine {
  switch (spec.syntax) {
    case "go":
      return readGo(words, spec);
    case "redis":
      return readRedis(words, spec);
    case "dotnet":
      return readDotnet(words);
    default:
      return readGnu(words, spec);
  }
}

/**
 * Go's flag/pflag: `-name`, `--name`, `=value` or the next word for a value flag,
 * flags and arguments interspersed (pflag), `--` ends the flags. Grafana's
 * `cfg:section.key=value` arguments are properties.
 */
function readGo(words: readonly string[], spec: ReadSpec): CommandLine {
  const line = emptyLine();
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === "--") {
      for (let j = i + 1; j < words.length; j++) line.positional.push(words[j]!);
      break;
    }
    if (w.charCodeAt(0) === 45 /* - */ && w.length > 1) {
      const eq = w.indexOf("=");
      const written = eq >= 0 ? w.slice(0, eq) : w;
      const key = spec.written !== null ? spec.written.get(written) : optionKey("go", written, spec.dashUnderscore);
      if (key === undefined) continue; // an option the program's rows do not name (a bool, or its value is a word of its own)
      let value: string | undefined;
      if (eq >= 0) value = w.slice(eq + 1);
      else if (takesValue(spec, key)) {
        const bare = spec.optional.get(key);
        if (bare !== undefined && (i + 1 >= words.length || words[i + 1]!.charCodeAt(0) === 45)) value = bare;
        else if (i + 1 < words.length) value = words[++i]!; // a value flag takes the next word, whatever it is
      }
      if ((flagsOf(spec, key) & WANTED) !== 0) record(line, key, { written, value, at: i });
      continue;
    }
    if (w.startsWith("cfg:") && setProp(line, "props", w.slice(4), w, false, false)) continue;
    line.positional.push(w);
  }
  return line;
}

/**
 * getopt_long, argparse, click, Symfony console: `--long=value`, `--long value`,
 * `-x value`, `-xvalue`, grouped short options (`-uvx`), `--` ends the options.
 */
function readGnu(words: readonly string[], spec: ReadSpec): CommandLine {
  const line = emptyLine();
  const wanted = (key: string) => (flagsOf(spec, key) & WANTED) !== 0;
  const valueOf = (key: string, i: number): [string | undefined, number] => {
    const bare = spec.optional.get(key);
    if (bare !== undefined && (i + 1 >= words.length || words[i + 1]!.charCodeAt(0) === 45)) return [bare, i];
    return i + 1 < words.length ? [words[i + 1]!, i + 1] : [undefined, i];
  };
  const hit = (key: string, written: string, value: string | undefined, at: number) => {
    if ((flagsOf(spec, key) & PROP) !== 0) {
      if (value !== undefined) setProp(line, "props", value, `${written} ${value}`, spec.dashUnderscore, false);
    } else if (wanted(key)) record(line, key, { written, value, at });
  };
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === "--") {
      for (let j = i + 1; j < words.length; j++) line.positional.push(words[j]!);
      break;
    }
    if (w.charCodeAt(0) !== 45 /* - */ || w.length === 1) {
      line.positional.push(w);
      continue;
    }
    if (w.charCodeAt(1) === 45 /* - */) {
      const eq = w.indexOf("=");
      const written = eq >= 0 ? w.slice(0, eq) : w;
      const key = optionKey("gnu", written, spec.dashUnderscore);
      if (spec.longOptionProps && flagsOf(spec, key) === 0) {
        if (eq >= 0) setProp(line, "props", w.slice(2), w, spec.dashUnderscore, false);
        continue;
      }
      let value: string | undefined;
      const at = i;
      if (eq >= 0) value = w.slice(eq + 1);
      else if (takesValue(spec, key)) [value, i] = valueOf(key, i);
      hit(key, written, value, at);
      continue;
    }
    // A short option, or a single-dash word the program spells whole (`-S`, `-dev`).
    const whole = optionKey("gnu", w, spec.dashUnderscore);
    if (flagsOf(spec, whole) !== 0) {
      let value: string | undefined;
      const at = i;
      if (takesValue(spec, whole)) [value, i] = valueOf(whole, i);
      hit(whole, w, value, at);
      continue;
    }
    for (let j = 1; j < w.length; j++) {
      const key = `-${w[j]!}`;
      if (takesValue(spec, key)) {
        let value: string | undefined = w.slice(j + 1);
        const at = i;
        if (value === "") [value, i] = valueOf(key, i);
        hit(key, key, value, at);
        break;
      }
      if (wanted(key)) record(line, key, { written: key, value: undefined, at: i });
    }
  }
  return line;
}

/** The key under which redis-server's configuration file argument is recorded. */
export const REDIS_CONFIG_FILE = "<config-file>";

/**
 * redis-server: `[config-file | -] [--name value [value…]]…`: an option takes
 * every word up to the next `--name` (`--bind 127.0.0.1 ::1`). Names are
 * case-insensitive, as in the configuration file.
 */
function readRedis(words: readonly string[], spec: ReadSpec): CommandLine {
  const line = emptyLine();
  let i = 0;
  if (words.length > 0 && !words[0]!.startsWith("--")) {
    record(line, REDIS_CONFIG_FILE, { written: words[0]!, value: words[0]!, at: 0 });
    i = 1;
  }
  while (i < words.length) {
    const w = words[i]!;
    if (!w.startsWith("--")) {
      line.positional.push(w);
      i++;
      continue;
    }
    const key = optionKey("redis", w, spec.dashUnderscore);
    const at = i;
    const values: string[] = [];
    for (i++; i < words.length && !words[i]!.startsWith("--"); i++) values.push(words[i]!);
    if ((flagsOf(spec, key) & WANTED) !== 0) record(line, key, { written: w, value: values.length > 0 ? values.join(" ") : undefined, at });
  }
  return line;
}

/**
 * Microsoft.Extensions.Configuration's command-line provider: `--key=value`,
 * `--key value`, `/key=value`, `/key value`, `key=value`. Keys are
 * case-insensitive: they are kept lower-cased, as properties.
 */
function readDotnet(words: readonly string[]): CommandLine {
  const line = emptyLine();
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const prefix = w.startsWith("--") ? 2 : w.charCodeAt(0) === 47 /* / */ ? 1 : 0;
    const eq = w.indexOf("=");
    if (prefix === 0) {
      if (eq <= 0 || !setProp(line, "props", w, w, false, true)) line.positional.push(w);
      continue;
    }
    if (eq > prefix) {
      setProp(line, "props", w.slice(prefix), w, false, true);
      continue;
    }
    if (i + 1 < words.length && w.length > prefix) setProp(line, "props", `${w.slice(prefix)}=${words[i + 1]!}`, w, false, true) && i++;
  }
  return line;
}

/**
 * Java: the JVM's `-Dname=value` words are system properties; the program's own
 * `--name=value` arguments are properties (Spring Boot's command-line property
 * source; relaxed binding: kept lower-cased).
 */
export function readJava(jvm: readonly string[], args: readonly string[]): CommandLine {
  const line = emptyLine();
  for (let i = 0; i < jvm.length; i++) if (jvm[i]!.startsWith("-D")) setProp(line, "sysprops", jvm[i]!.slice(2), jvm[i]!, false, false);
  for (let i = 0; i < args.length; i++) {
    const w = args[i]!;
    if (w === "--") break;
    if (w.startsWith("--")) setProp(line, "props", w.slice(2), w, false, true);
    else line.positional.push(w);
  }
  return line;
}
