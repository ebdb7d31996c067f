/**
 * The shapes of the program knowledge base: what a server binds and where it
 * reads that from, what a client is, what an image's entrypoint runs. Rows are
 * plain data (servers.ts, clients.ts, images.ts); the small pure functions in
 * command-line.ts, resolve.ts and binds.ts read them. Adding a program is adding
 * a row and its cases (tests/unit/programs-knowledge.test.ts and the policies'
 * test_data).
 */
import type { ListenForm } from "../listen-address.js";

/** Where a row's facts come from: a documentation page or a source file, and the versions they hold for. */
export interface Provenance {
  /** A URL or `owner/repo path` (code) the fact was read from. */
  ref: string;
  /** The versions the fact holds for (`>=1.0.0`, `all`), as the source states it. */
  versions?: string;
}

/**
 * How a program reads its command line:
 * - `go`: Go's flag and pflag packages (`-name`, `--name`, `=value` or the next word,
 *   the last occurrence wins, flags and arguments interspersed, `--` ends the flags);
 * - `gnu`: getopt_long, Python argparse and click, Symfony console (`--long=value`,
 *   `--long value`, `-x value`, `-xvalue`, grouped short flags, `--` ends the options);
 * - `redis`: redis-server / valkey-server (`[config-file] --name value [value…]`);
 * - `dotnet`: Microsoft.Extensions.Configuration's command-line provider
 *   (`--key=value`, `--key value`, `/key value`, `key=value`; keys case-insensitive, `:` separates sections);
 * - `socat`: options, then two addresses (socat.ts reads them).
 */
export type OptionSyntax = "go" | "gnu" | "redis" | "dotnet" | "socat";

/**
 * One place a setting can come from, in the program's own terms. A row lists its
 * sources in the order the program gives them precedence, highest first; the
 * first one that is set decides.
 */
export type SettingSource =
  /**
   * A command-line option, spelled as the program documents it (`--listen-address`,
   * or its aliases `["-b", "--bind"]`). `ambiguous`: a name clients use too (`--addr`):
   * the bind is dropped when another container of the pod declares or binds its port.
   */
  | { flag: string | readonly string[]; ambiguous?: boolean }
  /** An environment variable the program reads; `template` builds the value (`0.0.0.0:{}` for Gunicorn's PORT). */
  | { env: string; template?: string }
  /**
   * A property set on the command line: Grafana's `cfg:server.http_addr=…`, Java's
   * `-Dserver.address=…`, Spring Boot's and ASP.NET Core's `--key=value`. Matched
   * case-insensitively for `dotnet` and Spring (relaxed binding), exactly elsewhere.
   */
  | { prop: string }
  /** A Java system property on the JVM's command line (`-Dserver.address=…`). */
  | { sysprop: string }
  /** Environment variables named `prefix…suffix` (ASP.NET Core's `Kestrel__Endpoints__<name>__Url`), case-insensitively. */
  | { envPattern: readonly [prefix: string, suffix: string] }
  /** Command-line properties named `prefix…suffix` (`--Kestrel:Endpoints:<name>:Url`). */
  | { propPattern: readonly [prefix: string, suffix: string] }
  /** The n-th argument that is not an option (Django's `runserver [addrport]`, `http.server [port]`). */
  | { positional: number }
  /**
   * A configuration file given with this option: it may set the value, so every
   * source below it (defaults included) becomes uncertain when the option is present.
   */
  | { configFlag: string | readonly string[] }
  /** The same through an environment variable (`ETCD_CONFIG_FILE`). */
  | { configEnv: string }
  /**
   * A file the program reads without being told (`./gunicorn.conf.py`, `.flaskenv`, a
   * config baked into the image): every source below it is uncertain. `why` says which.
   */
  | { implicitConfig: string }
  /**
   * The compiled-in default, for the versions given (by the image's tag, when the
   * image is the program's own; a default whose version cannot be told is uncertain).
   */
  | { value: string; since?: string; before?: string };

/**
 * One level of precedence: a source, or several sources whose values all count
 * together (ASP.NET Core's Kestrel endpoints from the command line and the environment).
 */
export type SettingTier = SettingSource | readonly SettingSource[];

/** One listener of a program: its address, its port, and where each is read. */
export interface BindRow {
  /**
   * How the address value is written: `address` (host:port, host, :port, a bare port),
   * `url` (URL lists), `hosts` (comma- or space-separated hosts, each maybe with :port).
   */
  form: ListenForm | "hosts";
  /** The address, highest precedence first. */
  address: readonly SettingTier[];
  /** The port when the address has none, highest precedence first. */
  port?: readonly SettingTier[];
  /** A value that is only a port (`8000`) binds this host (Django's `runserver 8000` is 127.0.0.1:8000). */
  portOnlyHost?: string;
  /** Every occurrence of its option binds (Gunicorn's `-b`, exporter-toolkit's `--web.listen-address`). */
  repeatable?: boolean;
  /** The row holds only when one of these options is given (`vault server -dev`, `opa run --server`)… */
  whenFlag?: readonly string[];
  /** …or one of these environment variables is `true` or `1` (cloud-sql-proxy's `CSQL_PROXY_HEALTH_CHECK`). */
  whenEnv?: readonly string[];
  /** The row holds only when none of these options is given (`--uds`, `--fd`: no TCP socket at all). */
  unlessFlag?: readonly string[];
}

/** A subcommand and what it binds; a program's subcommands not listed bind nothing (they are client commands). */
export interface Subcommand {
  name: string;
  binds: readonly BindRow[];
  /** Options of the subcommand that take a value (gnu syntax: tells values from arguments). */
  valueOptions?: readonly string[];
}

/** A server program: how it reads its command line and what it binds. */
export interface ServerEntry {
  /** Names as argv[0] spells them, without a directory (`kube-scheduler`, `manage.py`). */
  names: readonly string[];
  syntax: OptionSyntax;
  /** Binds of the program itself: when it has no subcommands, or (with `clientSubcommands`) when none is given. */
  binds?: readonly BindRow[];
  /** Binds by subcommand (the first argument): `vault server`, `opa run`, `kubectl proxy`; any other subcommand binds nothing. */
  subcommands?: readonly Subcommand[];
  /**
   * With `binds` and `subcommands` both: first arguments that are commands binding
   * nothing (`vite build`); any other first argument (`vite ./site`) is the program's own.
   */
  clientSubcommands?: readonly string[];
  /** Options that take a value (gnu syntax: `-p 8000`, so `8000` is no argument). Options in the rows take one anyway. */
  valueOptions?: readonly string[];
  /** Options whose value is optional: given alone they mean this value (Vite's bare `--host` means all interfaces). */
  optionalValues?: readonly (readonly [option: string, whenBare: string])[];
  /** Options whose value is a `name=value` property (PostgreSQL's `-c listen_addresses=…`). */
  propOptions?: readonly string[];
  /** Long options the rows do not name are properties too (PostgreSQL's `--listen-addresses=…`). */
  longOptionProps?: boolean;
  /** `-` and `_` are the same in option and property names (mysqld's `--bind_address`, PostgreSQL's `--listen_addresses`). */
  dashUnderscore?: boolean;
  /**
   * A framework rather than a program (ASP.NET Core): a program we do not know by name
   * whose environment sets one of these variables is read as this entry too.
   */
  detectEnv?: readonly string[];
  /**
   * Also read the generic listen flags (settings `listenFlags`): a Go program whose
   * every flag the row does not list. Ambiguous generic flags are never read for a
   * known program: its rows say what it serves on.
   */
  generic?: boolean;
  sources: readonly Provenance[];
}

/** A command-line client: its address options name what it dials, never a bind. */
export interface ClientEntry {
  names: readonly string[];
  /** What kind of client, for the docs (`database client`, `backup tool`, `canary`). */
  kind: string;
  sources?: readonly Provenance[];
}

/**
 * A program that runs another one named on its command line: an interpreter or a
 * package runner. `python -m uvicorn …` is uvicorn, `python manage.py runserver` is
 * Django's manage.py, `npx vite` is vite.
 */
export interface LauncherEntry {
  names: readonly string[];
  /**
   * How the launched program is named: `python` (`-m module`, or a script whose base
   * name is the program), `script` (the first argument is a script: `node server.js`,
   * `php artisan`), `command` (the first argument is a program: `npx`, `uv run`).
   */
  style: "python" | "script" | "command" | "java";
  /** Words that must follow the launcher's own name first (`run` for `uv run`, `exec` for `bundle exec`). */
  verb?: string;
  /** The launcher's own options that take a value (so their values are not taken for the program). */
  valueOptions?: readonly string[];
  /** Extensions dropped from a script's name (`.js`): `node server.js` runs `server`. */
  stripExtensions?: readonly string[];
  /** The launched program is read as this server entry, whatever its name (`dotnet App.dll` is an ASP.NET Core application). */
  runsAs?: string;
  sources?: readonly Provenance[];
}

/**
 * What an image's ENTRYPOINT runs, for containers that set no `command` (with
 * `command`, the image's entrypoint does not run at all: Kubernetes replaces it).
 */
export interface ImageEntry {
  /** Repository paths (`grafana/alloy`; Docker Hub's official images as `library/redis`), matched against the image's last path components. */
  repositories: readonly string[];
  /** The program the entrypoint runs. */
  program: string;
  /**
   * `binary`: the entrypoint is the program (args are its arguments; without args, `cmd`).
   * `none`: the image has no entrypoint: the container's args (or `cmd`) are the whole command line.
   * `script`: a docker-entrypoint-style script: when the first word is an option or one of
   * `passes` (the program's name or a subcommand) the program runs with the words;
   * otherwise the words are a command of their own, which the script runs.
   */
  kind: "binary" | "script" | "none";
  /** Words the entrypoint puts before the container's args (Grafana's run.sh runs `grafana server …`). */
  prefix?: readonly string[];
  /** The image's CMD: the program's arguments when the container gives none. */
  cmd?: readonly string[];
  /** Script: first words that make the script run the program (`mongod`, `server`). The program's own name is dropped, subcommands kept. */
  passes?: readonly string[];
  /** Script names the manifest may call explicitly (`docker-entrypoint.sh`, `/run.sh`): same as the entrypoint. */
  scripts?: readonly string[];
  /**
   * Options the script adds before the container's words, when it runs the program
   * (with `subcommand`: only for that subcommand): `value` is the option's value, or
   * the environment variable `fromEnv` when set (`${VAULT_DEV_LISTEN_ADDRESS:-0.0.0.0:8200}`).
   * An option in `unless` on the command line stops the addition (mongo's `--bind_ip_all`).
   */
  adds?: readonly { option: string; value?: string; fromEnv?: string; subcommand?: string; unless?: readonly string[] }[];
  sources: readonly Provenance[];
}
