/**
 * Clients and launchers.
 *
 * A client's address options (`--host`, `--address`, `-addr`) name the server it
 * dials, never something it serves: a client binds nothing, whatever its flags
 * say. HashiCorp's CLIs, kubectl and OPA are servers with subcommands in
 * servers.ts: their other subcommands are these clients' kind.
 *
 * A launcher runs another program named on its command line (`python -m
 * uvicorn`, `npx vite`, `dotnet App.dll`): resolve.ts reads through it.
 */
import type { ClientEntry, LauncherEntry } from "./types.js";

export const CLIENTS: readonly ClientEntry[] = [
  {
    kind: "database client or backup tool",
    names: [
      "psql", "pg_dump", "pg_dumpall", "pg_restore", "pg_isready", "pg_basebackup", "pg_receivewal", "pgbench",
      "mysql", "mysqldump", "mysqladmin", "mysqlpump", "mysqlsh", "mysqlcheck", "mariadb", "mariadb-dump", "mariadb-admin",
      "redis-cli", "valkey-cli", "redis-benchmark",
      "mongo", "mongosh", "mongodump", "mongorestore", "mongoexport", "mongoimport",
      "cqlsh", "clickhouse-client", "influx", "sqlcmd", "sqlite3",
      "restic", "kopia", "velero", "wal-g", "barman-cloud-backup", "pgbackrest",
    ],
  },
  {
    kind: "RPC, workflow or cluster command-line client",
    names: ["tctl", "temporal", "etcdctl", "etcdutl", "helm", "argocd", "flux", "istioctl", "linkerd", "cilium", "calicoctl", "aws", "gcloud", "gsutil", "az", "mc", "s3cmd"],
  },
  {
    kind: "network probe or HTTP client",
    names: ["curl", "wget", "nc", "ncat", "netcat", "telnet", "grpcurl", "grpc_health_probe", "grpc-health-probe", "nslookup", "dig", "host", "ping", "httpie"],
  },
  {
    kind: "Prometheus and Grafana command-line tools",
    names: ["promtool", "amtool", "logcli", "mimirtool", "cortextool", "tempo-cli", "lokitool"],
    sources: [{ ref: "prometheus.io/docs/prometheus/latest/command-line/promtool; grafana.com/docs/loki/latest/query/logcli" }],
  },
];

/** `python3.12` and the like, without a pattern. */
const PYTHONS = ["python", "python2", "python3", "pypy", "pypy3", ...Array.from({ length: 16 }, (_, i) => `python3.${i}`), "python2.7"];

export const LAUNCHERS: readonly LauncherEntry[] = [
  {
    names: PYTHONS,
    style: "python",
    valueOptions: ["-W", "-X", "--check-hash-based-pycs"],
    sources: [{ ref: "docs.python.org/3/using/cmdline.html (-m module, script, -c command)" }],
  },
  {
    names: ["java"],
    style: "java",
    runsAs: "java",
    valueOptions: ["-cp", "-classpath", "--class-path", "-p", "--module-path", "--upgrade-module-path", "--add-modules", "--add-opens", "--add-exports", "--add-reads", "--patch-module", "--limit-modules", "--source"],
    sources: [{ ref: "docs.oracle.com/en/java/javase/21/docs/specs/man/java.html (java [options] -jar jarfile | mainclass | -m module [args])" }],
  },
  {
    names: ["node", "nodejs", "bun", "deno"],
    style: "script",
    valueOptions: ["-r", "--require", "--import", "--loader", "--experimental-loader", "--input-type", "--env-file", "-C", "--conditions"],
    stripExtensions: [".js", ".mjs", ".cjs", ".ts"],
    sources: [{ ref: "nodejs.org/api/cli.html (node [options] script [arguments])" }],
  },
  {
    names: ["npx", "bunx", "pnpx"],
    style: "command",
    valueOptions: ["-p", "--package", "--registry", "--cache", "--prefix"],
    sources: [{ ref: "docs.npmjs.com/cli/commands/npx (npx [options] <command> [args])" }],
  },
  { names: ["pnpm"], verb: "exec", style: "command", valueOptions: ["-C", "--dir", "--filter", "-F"] },
  { names: ["pnpm"], verb: "dlx", style: "command", valueOptions: ["--package"] },
  { names: ["yarn"], verb: "exec", style: "command" },
  { names: ["bundle"], verb: "exec", style: "command", valueOptions: ["--gemfile"] },
  { names: ["poetry", "pipenv", "pdm", "rye", "hatch"], verb: "run", style: "command", valueOptions: ["-C", "--directory", "-P", "--project", "-e", "--env"] },
  {
    names: ["uv"],
    verb: "run",
    style: "command",
    valueOptions: ["--with", "--with-requirements", "--python", "-p", "--project", "--directory", "--env-file", "--group", "--extra", "--package", "--index", "--index-url"],
    sources: [{ ref: "docs.astral.sh/uv/reference/cli/#uv-run" }],
  },
  { names: ["uvx"], style: "command", valueOptions: ["--with", "--from", "--python", "-p"] },
  {
    names: ["dotnet"],
    style: "script",
    valueOptions: ["--additionalprobingpath", "--depsfile", "--runtimeconfig", "--fx-version", "--roll-forward", "--additional-deps"],
    stripExtensions: [".dll"],
    runsAs: "aspnetcore",
    sources: [{ ref: "learn.microsoft.com/dotnet/core/tools/dotnet (dotnet [host-options] [path-to-application] [arguments])" }],
  },
];
