/**
 * Which known program a command line runs: through the image's entrypoint (a
 * container without `command`), entrypoint scripts, launchers (`python -m`,
 * `npx`, `dotnet App.dll`, `java -jar`), and subcommands (`vault server`,
 * `flask run`). Bounded: at most MAX_STEPS hops, each linear in the words.
 */
import { baseName, ENTRYPOINT } from "../programs.js";
import { readCommandLine, VALUE } from "./command-line.js";
import { clientNamed, imageEntry, launchersNamed, parseVersion, serverNamed as builtinServer, topLevelSpec, type Version } from "./index.js";
import type { ClientEntry, ImageEntry, LauncherEntry, ServerEntry, Subcommand } from "./types.js";
import { userImage, type UserKnowledge } from "./user.js";

/** The knowledge consulted for one request: the user's programs (settings) first, then the built-in ones. */
interface Knowledge {
  server(name: string): ServerEntry | undefined;
  client(name: string): ClientEntry | undefined;
  image(image: string): { entry: ImageEntry; tag: string } | undefined;
}

const BUILTIN: Knowledge = {
  server: builtinServer,
  client: clientNamed,
  image: (image) => {
    const found = imageEntry(image);
    return found ? { entry: found.entry, tag: found.ref.tag } : undefined;
  },
};

function knowledge(user: UserKnowledge | undefined): Knowledge {
  if (user === undefined) return BUILTIN;
  return {
    server: (name) => user.servers.get(name) ?? builtinServer(name),
    client: (name) => user.clients.get(name) ?? clientNamed(name),
    image: (image) => userImage(user, image) ?? BUILTIN.image(image),
  };
}

/** A program's environment as far as the manifest tells it (binds.ts, listeners.ts). */
export interface EnvAccess {
  /** The value, when known. */
  get(name: string): string | undefined;
  /** `set` (value known), `unset` (certainly not set), `unknown` (set from a source we cannot read, or maybe set). */
  state(name: string): "set" | "unset" | "unknown";
  /** Names the container defines (for name patterns such as `Kestrel__Endpoints__*__Url`). */
  names(): readonly string[];
}

export type Resolved =
  | {
      kind: "server";
      entry: ServerEntry;
      /** The program's name for messages (`uvicorn`, `kube-scheduler`). */
      name: string;
      subcommand?: Subcommand;
      /** The words after the program (and its subcommand). */
      args: readonly string[];
      /** Java: the JVM's `-Dname=value` words (the program's own arguments are in `args`). */
      jvmArgs?: readonly string[];
      /** False when an unknown script started the program: it may add options, so defaults are uncertain. */
      defaultsCertain: boolean;
      /** The image's version, when the image is the program's own. */
      version: Version | null;
      /** A command of the program that serves nothing of its rows (a generic Go program is still read with the generic flags). */
      noRows?: boolean;
    }
  | { kind: "client"; entry: ClientEntry; name: string }
  /** A program the knowledge base does not know: read with the generic flags. `argv[0]` is its name (or ENTRYPOINT). */
  | { kind: "unknown"; argv: readonly string[]; defaultsCertain: boolean };

/** Hops through entrypoints, scripts and launchers followed for one program. */
const MAX_STEPS = 8;

function isOption(word: string): boolean {
  return word.charCodeAt(0) === 45 /* - */ && word.length > 1;
}

/** The words the image's entrypoint runs, given the container's args; null when the entrypoint runs them as a command of their own. */
function entrypointWords(img: ImageEntry, args: readonly string[], env: EnvAccess, kb: Knowledge): { words: string[]; ownProgram: boolean } {
  const given = args.length > 0 ? args.slice() : (img.cmd ?? []).slice();
  if (img.kind === "none") return { words: given, ownProgram: given.length > 0 && baseName(given[0]!) === img.program };
  let rest = given;
  let subcommand: string | undefined;
  if (img.kind === "script") {
    if (rest.length > 0 && !isOption(rest[0]!)) {
      const first = baseName(rest[0]!);
      const own = kb.server(img.program);
      // The program's own name (`mongod`, or `mysqld` for mariadbd): dropped, the words are its arguments.
      if (first === img.program || (own !== undefined && kb.server(first) === own)) rest = rest.slice(1);
      else if (img.passes?.includes(first) === true) {
        subcommand = first;
        rest = rest.slice(1);
      } else return { words: given, ownProgram: false }; // `args: [bash, -c, …]`: the script execs them
    }
  } else if (img.prefix !== undefined && img.prefix.length > 0) subcommand = img.prefix[0];
  const adds: string[] = [];
  for (const add of img.adds ?? []) {
    if (add.subcommand !== undefined && add.subcommand !== subcommand) continue;
    if (add.unless && rest.some((w) => add.unless!.includes(w.indexOf("=") > 0 ? w.slice(0, w.indexOf("=")) : w))) continue;
    let value = add.value;
    if (add.fromEnv !== undefined) {
      const state = env.state(add.fromEnv);
      if (state === "set") value = env.get(add.fromEnv);
      else if (state === "unknown") value = "$(" + add.fromEnv + ")"; // unknown: a value the analysis never reads as loopback
    }
    adds.push(value === undefined ? add.option : `${add.option}=${value}`);
  }
  const words = [img.program];
  if (subcommand !== undefined) words.push(subcommand);
  return { words: words.concat(adds, rest), ownProgram: true };
}

/** The launched program's words, or null when the launcher runs none we can name (`python -c …`, `npx` alone). */
function launched(l: LauncherEntry, words: readonly string[]): string[] | null {
  let i = 1;
  if (l.verb !== undefined) {
    if (words[1] !== l.verb) return null;
    i = 2;
  }
  const valueOptions = l.valueOptions ?? [];
  for (; i < words.length; i++) {
    const w = words[i]!;
    if (w === "--") {
      i++;
      break;
    }
    if (!isOption(w)) break;
    if (l.style === "python") {
      if (w === "-c") return null;
      if (w === "-m") return i + 1 < words.length ? words.slice(i + 1) : null;
      if (w.startsWith("-m") && w.length > 2 && w.charCodeAt(2) !== 45) return [w.slice(2)].concat(words.slice(i + 1));
    }
    if (l.style === "script" && (w === "-e" || w === "--eval" || w === "-p" || w === "--print")) return null;
    if (w.indexOf("=") < 0 && valueOptions.includes(w)) i++;
  }
  if (i >= words.length) return null;
  const target = words[i]!;
  let name = baseName(target);
  for (const ext of l.stripExtensions ?? []) if (name.endsWith(ext)) name = name.slice(0, name.length - ext.length);
  return [name].concat(words.slice(i + 1));
}

/** `java [JVM options] (-jar file | -m module | class) [args]`: the JVM's options and the program's arguments. */
function javaWords(words: readonly string[], valueOptions: readonly string[]): { jvm: string[]; args: readonly string[] } | null {
  const jvm: string[] = [];
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!;
    if (w === "-jar" || w === "-m" || w === "--module") return i + 1 < words.length ? { jvm, args: words.slice(i + 2) } : null;
    if (w.startsWith("--module=")) return { jvm, args: words.slice(i + 1) };
    if (w.charCodeAt(0) === 64 /* @ */) return null; // an @argfile: options we cannot read
    if (!isOption(w)) return { jvm, args: words.slice(i + 1) }; // the main class
    jvm.push(w);
    if (w.indexOf("=") < 0 && valueOptions.includes(w)) i++;
  }
  return null;
}

/** The subcommand a server entry runs, and the words after it. */
function subcommandOf(entry: ServerEntry, args: readonly string[]): { sub?: Subcommand; args: readonly string[]; binds: boolean } {
  if (!entry.subcommands) return { args, binds: true };
  const spec = topLevelSpec(entry);
  // Find the first word that is neither an option nor an option's value.
  let at = -1;
  for (let i = 0; i < args.length; i++) {
    const w = args[i]!;
    if (w === "--") break;
    if (!isOption(w)) {
      if (entry.syntax === "go" && w.startsWith("cfg:")) continue;
      at = i;
      break;
    }
    if (w.indexOf("=") < 0 && ((spec.keys.get(entry.syntax === "go" ? w.slice(w.charCodeAt(1) === 45 ? 2 : 1) : w) ?? 0) & VALUE) !== 0) i++;
  }
  if (at >= 0) {
    const name = args[at]!;
    for (const sub of entry.subcommands) if (sub.name === name) return { sub, args: args.slice(at + 1), binds: true };
    if (entry.clientSubcommands?.includes(name) === true) return { args, binds: false };
  }
  // No subcommand we know: the program's own binds hold only where the entry has them and says which words are commands.
  return { args, binds: entry.binds !== undefined && entry.clientSubcommands !== undefined };
}

/** What one program's argv runs, reading through entrypoints, scripts and launchers. */
export function resolveProgram(argvIn: readonly string[], image: string, env: EnvAccess, user?: UserKnowledge): Resolved {
  const kb = knowledge(user);
  let words: readonly string[] = argvIn;
  let defaultsCertain = true;
  let runsAs: string | undefined;
  /** The image row, while the words are still the image's own program. */
  const imageRow = image !== "" ? kb.image(image) : undefined;
  let img = imageRow;
  let imageProgram: string | undefined;
  for (let step = 0; step < MAX_STEPS && words.length > 0; step++) {
    const first = words[0]!;
    const name = baseName(first);
    // The image's entrypoint: the manifest does not show it, the knowledge base may know it.
    const script = img?.entry.scripts;
    if (first === ENTRYPOINT || (step === 0 && script !== undefined && (script.includes(first) || script.includes(name)))) {
      if (!img) return { kind: "unknown", argv: words, defaultsCertain };
      const run = entrypointWords(img.entry, words.slice(1), env, kb);
      words = run.words;
      if (run.ownProgram) imageProgram = img.entry.program;
      img = run.ownProgram ? img : undefined;
      continue;
    }
    // An entrypoint script we do not know that is handed a command: it runs it (`exec "$@"`), maybe with options of its own.
    if (name.indexOf("entrypoint") >= 0 && words.length > 1 && !isOption(words[1]!)) {
      words = words.slice(1);
      defaultsCertain = false;
      continue;
    }
    const client = kb.client(name);
    if (client) return { kind: "client", entry: client, name };
    if (name === "php" || (name.startsWith("php") && name.length <= 6 && name.charCodeAt(3) >= 48 && name.charCodeAt(3) <= 57)) {
      // `php -S host:port` serves; `php artisan serve` runs a script.
      const phpDash = words.findIndex((w, i) => i > 0 && (w === "-S" || (w.startsWith("-S") && w.length > 2)));
      if (phpDash > 0) {
        const entry = builtinServer("php -S")!;
        return { kind: "server", entry, name: "php -S", args: words.slice(1), defaultsCertain, version: null };
      }
      const next = launched({ names: [], style: "script", valueOptions: ["-d", "-c", "-t", "-z", "-f"], stripExtensions: [".php"] }, words);
      if (next === null) return { kind: "unknown", argv: words, defaultsCertain };
      words = next;
      continue;
    }
    const launchers = launchersNamed(name);
    if (launchers) {
      let next: string[] | null = null;
      let via: LauncherEntry | undefined;
      for (const l of launchers) {
        if (l.style === "java") {
          const java = javaWords(words, l.valueOptions ?? []);
          if (java === null) return { kind: "unknown", argv: words, defaultsCertain };
          const entry = builtinServer("java")!;
          return { kind: "server", entry, name: "java", args: java.args, jvmArgs: java.jvm, defaultsCertain, version: null };
        }
        next = launched(l, words);
        if (next !== null) {
          via = l;
          break;
        }
      }
      if (next === null || via === undefined) return { kind: "unknown", argv: words, defaultsCertain };
      runsAs = via.runsAs ?? runsAs;
      words = next;
      if (via.runsAs !== undefined) break;
      continue;
    }
    break;
  }
  if (words.length === 0) return { kind: "unknown", argv: words, defaultsCertain };
  const name = runsAs ?? baseName(words[0]!);
  const entry = kb.server(name);
  if (!entry) return { kind: "unknown", argv: words, defaultsCertain };
  const { sub, args, binds } = subcommandOf(entry, words.slice(1));
  // A command of the program that serves nothing (`vault status`, `kubectl get`, `vite build`): only
  // a Go program whose flags we do not all know (generic) is still read with the generic flags.
  if (!binds && sub === undefined && entry.generic !== true) return { kind: "client", entry: { names: entry.names, kind: `${name} command` }, name };
  // The image's version, when the image is the program's own (run by its entrypoint, or named by `command`).
  const own = imageProgram !== undefined && img !== undefined && entry.names.includes(imageProgram) ? img : imageRow !== undefined && imageRow.entry.program === name ? imageRow : undefined;
  const version = own !== undefined ? parseVersion(own.tag) : null;
  const resolved: Resolved = { kind: "server", entry, name: sub ? `${name} ${sub.name}` : name, args, defaultsCertain, version };
  if (sub) resolved.subcommand = sub;
  else if (!binds) resolved.noRows = true;
  return resolved;
}

export { readCommandLine };
