/**
 * Servers: what they bind and where they read it, highest precedence first
 * (types.ts). Every row names its source. Only what the source states is here:
 * a default that a file the manifest does not show may change is preceded by an
 * `implicitConfig` (it is then never a finding on its own), a default that
 * changed across versions carries its versions.
 *
 * A port read from a source that a configuration file may override is kept as
 * certain: if the real port differs, nothing listens on the probed port either,
 * and the probe fails all the same. Only the address decides whether a bind is
 * certain (reachability.ts).
 */
import { SOCAT_SOURCE } from "./socat.js";
import type { BindRow, ServerEntry } from "./types.js";

const K8S = "kubernetes/kubernetes pkg/cluster/ports/ports.go and the component's --help";

/** Kubernetes control-plane components: `--bind-address` serves the secure port, 0 disables it. */
function controlPlane(name: string, securePort: number, since: string): ServerEntry {
  return {
    names: [name],
    syntax: "go",
    generic: true,
    binds: [{ form: "address", address: [{ flag: "--bind-address" }, { value: "0.0.0.0" }], port: [{ flag: "--secure-port" }, { value: String(securePort) }] }],
    sources: [{ ref: `${K8S} (${name} --secure-port default ${securePort})`, versions: `>=${since}` }],
  };
}

/** dskit-based Grafana servers (Loki, Mimir, Tempo): CLI flags override the YAML file (`-config.file`). */
function dskit(name: string, httpPort: number, grpcPort: number): ServerEntry {
  const row = (kind: "http" | "grpc", port: number): BindRow => ({
    form: "address",
    address: [{ flag: `-server.${kind}-listen-address` }, { configFlag: "-config.file" }, { value: "" }],
    port: [{ flag: `-server.${kind}-listen-port` }, { configFlag: "-config.file" }, { value: String(port) }],
  });
  return {
    names: [name],
    syntax: "go",
    generic: true,
    binds: [row("http", httpPort), row("grpc", grpcPort)],
    sources: [{ ref: `grafana/${name} docs: configuration (server block), flags override the configuration file` }],
  };
}

/** Prometheus-ecosystem servers built on exporter-toolkit: `--web.listen-address` may repeat. */
function exporter(names: readonly string[], port: number, ref: string): ServerEntry {
  return {
    names,
    syntax: "go",
    generic: true,
    binds: [{ form: "address", repeatable: true, address: [{ flag: "--web.listen-address" }, { value: `:${port}` }] }],
    sources: [{ ref }],
  };
}

const CLOUD_SQL = "GoogleCloudPlatform/cloud-sql-proxy cmd/root.go (v2)";

export const SERVERS: readonly ServerEntry[] = [
  // ---- Kubernetes ----
  controlPlane("kube-scheduler", 10259, "1.13"),
  controlPlane("kube-controller-manager", 10257, "1.13"),
  controlPlane("cloud-controller-manager", 10258, "1.16"),
  controlPlane("kube-apiserver", 6443, "1.0"),
  {
    names: ["kubelet"],
    syntax: "go",
    generic: true,
    binds: [
      // A KubeletConfiguration file (--config) sets the same fields; flags override it.
      {
        form: "address",
        address: [{ flag: "--healthz-bind-address" }, { configFlag: "--config" }, { value: "127.0.0.1" }],
        port: [{ flag: "--healthz-port" }, { configFlag: "--config" }, { value: "10248" }],
      },
      { form: "address", address: [{ flag: "--address" }, { configFlag: "--config" }, { value: "0.0.0.0" }], port: [{ flag: "--port" }, { value: "10250" }] },
    ],
    sources: [{ ref: "kubernetes.io/docs/reference/command-line-tools-reference/kubelet (--healthz-bind-address 127.0.0.1, --healthz-port 10248)" }],
  },
  {
    names: ["kube-proxy"],
    syntax: "go",
    generic: true,
    // With --config the file decides (flags given with it are ignored in older releases): uncertain.
    binds: [
      { form: "address", address: [{ configFlag: "--config" }, { flag: "--metrics-bind-address" }, { value: "127.0.0.1:10249" }] },
      { form: "address", address: [{ configFlag: "--config" }, { flag: "--healthz-bind-address" }, { value: "0.0.0.0:10256" }] },
    ],
    sources: [{ ref: "kubernetes.io/docs/reference/command-line-tools-reference/kube-proxy (--metrics-bind-address 127.0.0.1:10249, --healthz-bind-address 0.0.0.0:10256)" }],
  },
  {
    names: ["kube-state-metrics"],
    syntax: "go",
    generic: true,
    binds: [
      { form: "address", address: [{ flag: "--host" }, { value: "::" }], port: [{ flag: "--port" }, { value: "8080" }] },
      { form: "address", address: [{ flag: "--telemetry-host" }, { value: "::" }], port: [{ flag: "--telemetry-port" }, { value: "8081" }] },
    ],
    sources: [{ ref: "kubernetes/kube-state-metrics docs/developer/cli-arguments.md" }],
  },
  {
    names: ["kepler"],
    syntax: "go",
    generic: true,
    binds: [{ form: "address", address: [{ flag: "-address" }] }],
    sources: [{ ref: "sustainable-computing-io/kepler cmd/exporter/exporter.go (-address: the exporter's listen address)", versions: "release-0.7" }],
  },
  {
    names: ["kubectl"],
    syntax: "go",
    valueOptions: ["--kubeconfig", "--context", "--cluster", "--user", "--namespace", "-n", "--server", "-s", "--token", "--as", "--as-group"],
    subcommands: [
      {
        name: "proxy",
        binds: [{ form: "address", unlessFlag: ["--unix-socket", "-u"], address: [{ flag: "--address" }, { value: "127.0.0.1" }], port: [{ flag: ["--port", "-p"] }, { value: "8001" }] }],
      },
    ],
    sources: [{ ref: "kubernetes.io/docs/reference/kubectl/generated/kubectl_proxy (--address 127.0.0.1, --port 8001)" }],
  },
  // ---- Prometheus ecosystem (all interfaces by default: evidence for the neighbour rule) ----
  exporter(["prometheus"], 9090, "prometheus/prometheus cmd/prometheus/main.go"),
  exporter(["alertmanager"], 9093, "prometheus/alertmanager cmd/alertmanager/main.go"),
  exporter(["node_exporter", "node-exporter"], 9100, "prometheus/node_exporter node_exporter.go"),
  exporter(["blackbox_exporter"], 9115, "prometheus/blackbox_exporter main.go"),
  exporter(["pushgateway"], 9091, "prometheus/pushgateway main.go"),
  // ---- Grafana ----
  {
    names: ["synthetic-monitoring-agent"],
    syntax: "go",
    generic: true,
    // -api-server-address names the API it dials: a client address, not listed.
    binds: [{ form: "address", address: [{ flag: "-listen-address" }, { value: "localhost:4050" }] }],
    sources: [{ ref: "grafana/synthetic-monitoring-agent cmd/synthetic-monitoring-agent/main.go (HttpListenAddr: localhost:4050)" }],
  },
  {
    names: ["alloy"],
    syntax: "go",
    subcommands: [{ name: "run", binds: [{ form: "address", address: [{ flag: "--server.http.listen-addr" }, { value: "127.0.0.1:12345" }] }] }],
    sources: [{ ref: "grafana/alloy internal/alloycli/cmd_run.go (httpListenAddr: 127.0.0.1:12345)" }],
  },
  {
    // Grafana Agent in flow mode (AGENT_MODE=flow): the same `run` as Alloy.
    names: ["grafana-agent"],
    syntax: "go",
    generic: true,
    subcommands: [{ name: "run", binds: [{ form: "address", address: [{ flag: "--server.http.listen-addr" }, { value: "127.0.0.1:12345" }] }] }],
    sources: [{ ref: "grafana/agent internal/flowmode/cmd_run.go (httpListenAddr: 127.0.0.1:12345)" }],
  },
  {
    names: ["loki-canary"],
    syntax: "go",
    // -addr is the Loki it queries (a client address); it serves its metrics on -port.
    binds: [{ form: "address", address: [{ value: "" }], port: [{ flag: "-port" }, { value: "3500" }] }],
    sources: [{ ref: "grafana/loki cmd/loki-canary/main.go (-addr: Loki address, -port: 3500)" }],
  },
  dskit("loki", 3100, 9095),
  dskit("mimir", 8080, 9095),
  dskit("tempo", 3200, 9095),
  {
    // `grafana server`: cfg: arguments > GF_* env > the ini file > cfg:default.* > defaults.
    names: ["grafana"],
    syntax: "go",
    valueOptions: ["--config", "--homepath", "--pidfile", "--packaging"],
    subcommands: [{ name: "server", binds: grafanaBinds() }],
    sources: [{ ref: "grafana/grafana pkg/setting/setting.go loadConfiguration (defaults, cfg:default.*, --config, env overrides, cfg:*)" }],
  },
  {
    names: ["grafana-server"],
    syntax: "go",
    binds: grafanaBinds(),
    sources: [{ ref: "grafana/grafana pkg/setting/setting.go (grafana-server, before Grafana 10 merged it into `grafana server`)" }],
  },
  // ---- Policy, identity, proxies ----
  {
    names: ["opa"],
    syntax: "go",
    subcommands: [
      {
        name: "run",
        binds: [
          {
            form: "address",
            repeatable: true,
            whenFlag: ["--server", "-s"],
            unlessFlag: ["--v0-compatible"],
            address: [{ flag: ["--addr", "-a"] }, { value: "localhost:8181", since: "1.0.0" }, { value: ":8181", before: "1.0.0" }],
          },
          { form: "address", repeatable: true, whenFlag: ["--v0-compatible"], address: [{ flag: ["--addr", "-a"] }, { value: ":8181" }] },
          { form: "address", repeatable: true, address: [{ flag: "--diagnostic-addr" }] },
        ],
      },
    ],
    sources: [
      { ref: "openpolicyagent.org/docs/v0-upgrade (opa run --server binds localhost:8181 by default)", versions: ">=1.0.0" },
      { ref: "open-policy-agent/opa cmd/run.go (--addr default :8181)", versions: "<1.0.0" },
    ],
  },
  {
    names: ["oauth2-proxy", "oauth2_proxy"],
    syntax: "go",
    generic: true,
    valueOptions: ["--tls-cert-file"],
    binds: [
      // The alpha configuration (--alpha-config) sets the server's bind address too.
      { form: "address", address: [{ flag: "--http-address" }, { env: "OAUTH2_PROXY_HTTP_ADDRESS" }, { configFlag: ["--config", "--alpha-config"] }, { value: "127.0.0.1:4180" }] },
      { form: "address", address: [{ flag: "--https-address" }, { env: "OAUTH2_PROXY_HTTPS_ADDRESS" }, { configFlag: ["--config", "--alpha-config"] }, { value: ":443" }], whenFlag: ["--tls-cert-file"] },
      { form: "address", address: [{ flag: "--metrics-address" }, { env: "OAUTH2_PROXY_METRICS_ADDRESS" }] },
    ],
    sources: [{ ref: "oauth2-proxy.github.io/oauth2-proxy/configuration/overview (--http-address default 127.0.0.1:4180; flag > env > config)" }],
  },
  {
    names: ["cloud-sql-proxy"],
    syntax: "go",
    binds: [
      {
        form: "address",
        whenFlag: ["--health-check", "--prometheus"],
        whenEnv: ["CSQL_PROXY_HEALTH_CHECK", "CSQL_PROXY_PROMETHEUS"],
        address: [{ flag: "--http-address" }, { env: "CSQL_PROXY_HTTP_ADDRESS" }, { value: "localhost" }],
        port: [{ flag: "--http-port" }, { env: "CSQL_PROXY_HTTP_PORT" }, { value: "9090" }],
      },
      // Instance listeners: the port depends on the database unless --port says it.
      { form: "address", address: [{ flag: ["--address", "-a"] }, { env: "CSQL_PROXY_ADDRESS" }, { value: "127.0.0.1" }], port: [{ flag: ["--port", "-p"] }, { env: "CSQL_PROXY_PORT" }] },
    ],
    sources: [{ ref: `${CLOUD_SQL}: --http-address localhost, --http-port 9090 (with --health-check or --prometheus), --address 127.0.0.1` }],
  },
  {
    names: ["code-server"],
    syntax: "gnu",
    binds: [{ form: "address", address: [{ flag: "--bind-addr" }, { configFlag: "--config" }, { implicitConfig: "~/.config/code-server/config.yaml" }, { value: "127.0.0.1:8080" }] }],
    sources: [{ ref: "coder/code-server docs/FAQ (bind-addr 127.0.0.1:8080)" }],
  },
  {
    names: ["pilot-agent"],
    syntax: "go",
    // Envoy's admin interface, bound by the bootstrap pilot-agent writes.
    subcommands: [{ name: "proxy", binds: [{ form: "address", address: [{ value: "127.0.0.1" }], port: [{ flag: "--proxyAdminPort" }, { value: "15000" }] }] }],
    sources: [{ ref: "istio.io/latest/docs/ops/deployment/application-requirements (15000: Envoy admin port, localhost)" }],
  },
  {
    // cloudflared tunnel: its metrics server (/ready, the documented liveness probe) on --metrics.
    names: ["cloudflared"],
    syntax: "go",
    subcommands: [{ name: "tunnel", binds: [{ form: "address", address: [{ flag: "--metrics" }, { env: "TUNNEL_METRICS" }] }] }],
    sources: [{ ref: "developers.cloudflare.com/cloudflare-one/connections/connect-networks/configure-tunnels/tunnel-run-parameters (--metrics, TUNNEL_METRICS)" }],
  },
  {
    names: ["nats-server"],
    syntax: "go",
    binds: [
      { form: "address", address: [{ flag: ["-a", "--addr", "--net"] }, { configFlag: ["-c", "--config"] }, { value: "0.0.0.0" }], port: [{ flag: ["-p", "--port"] }, { value: "4222" }] },
      // The monitoring port binds the server's host unless the config file says otherwise.
      { form: "address", address: [{ flag: ["-a", "--addr", "--net"] }, { configFlag: ["-c", "--config"] }, { value: "0.0.0.0" }], port: [{ flag: ["-m", "--http_port"] }] },
    ],
    sources: [
      { ref: "docs.nats.io/running-a-nats-service/introduction/flags (-a/--addr 0.0.0.0, -p 4222, -m/--http_port)" },
      { ref: "nats-io/nats-server server/opts.go processOptions (HTTPHost defaults to Host)" },
    ],
  },
  // ---- relays ----
  { names: ["socat"], syntax: "socat", sources: [{ ref: SOCAT_SOURCE }] },
  // ---- HashiCorp ----
  {
    names: ["vault"],
    syntax: "go",
    subcommands: [
      {
        name: "server",
        binds: [{ form: "address", whenFlag: ["-dev"], address: [{ flag: "-dev-listen-address" }, { env: "VAULT_DEV_LISTEN_ADDRESS" }, { value: "127.0.0.1:8200" }] }],
      },
    ],
    sources: [{ ref: "developer.hashicorp.com/vault/docs/commands/server (-dev-listen-address default 127.0.0.1:8200, VAULT_DEV_LISTEN_ADDRESS)" }],
  },
  {
    names: ["consul"],
    syntax: "go",
    subcommands: [
      {
        name: "agent",
        binds: [
          {
            form: "hosts",
            address: [{ flag: "-client" }, { configFlag: ["-config-file", "-config-dir"] }, { value: "127.0.0.1" }],
            port: [{ flag: "-http-port" }, { value: "8500" }],
          },
          {
            form: "hosts",
            address: [{ flag: "-client" }, { configFlag: ["-config-file", "-config-dir"] }, { value: "127.0.0.1" }],
            port: [{ flag: "-dns-port" }, { value: "8600" }],
          },
        ],
      },
    ],
    sources: [{ ref: "developer.hashicorp.com/consul/docs/agent/config/cli-flags (-client default 127.0.0.1; HTTP 8500, DNS 8600)" }],
  },
  {
    names: ["nomad"],
    syntax: "go",
    subcommands: [
      {
        name: "agent",
        binds: [{ form: "address", whenFlag: ["-dev"], address: [{ flag: "-bind" }, { configFlag: "-config" }, { value: "127.0.0.1" }], port: [{ value: "4646" }] }],
      },
    ],
    sources: [{ ref: "developer.hashicorp.com/nomad/docs/commands/agent (-dev binds 127.0.0.1, HTTP 4646)" }],
  },
  // ---- Data stores ----
  {
    names: ["etcd"],
    syntax: "go",
    generic: true,
    // A configuration file replaces flags and environment entirely.
    binds: [
      etcdRow("listen-client-urls", "http://localhost:2379"),
      etcdRow("listen-peer-urls", "http://localhost:2380"),
      etcdRow("listen-metrics-urls"),
    ],
    sources: [{ ref: "etcd.io/docs/v3.5/op-guide/configuration (defaults http://localhost:2379 / :2380; flags > ETCD_* env; --config-file ignores both)" }],
  },
  {
    names: ["redis-server", "valkey-server"],
    syntax: "redis",
    binds: [
      {
        form: "hosts",
        address: [{ flag: "--bind" }, { configFlag: "<config-file>" }, { value: "*" }],
        port: [{ flag: "--port" }, { configFlag: "<config-file>" }, { value: "6379" }],
      },
    ],
    sources: [{ ref: "redis.io/docs/latest/operate/oss_and_stack/management/config (no config file: all interfaces, port 6379; --name value overrides the file)" }],
  },
  {
    names: ["memcached"],
    syntax: "gnu",
    binds: [{ form: "hosts", repeatable: true, address: [{ flag: ["-l", "--listen"] }, { value: "" }], port: [{ flag: ["-p", "--port"] }, { value: "11211" }] }],
    sources: [{ ref: "memcached(1): -l <addr> (default INADDR_ANY), -p <num> (default 11211)" }],
  },
  {
    names: ["mongod", "mongos"],
    syntax: "gnu",
    dashUnderscore: false,
    binds: [
      {
        form: "hosts",
        unlessFlag: ["--bind_ip_all"],
        address: [{ flag: "--bind_ip" }, { configFlag: ["--config", "-f"] }, { value: "localhost", since: "3.6.0" }],
        port: [{ flag: "--port" }, { configFlag: ["--config", "-f"] }, { value: "27017" }],
      },
      { form: "hosts", whenFlag: ["--bind_ip_all"], address: [{ value: "0.0.0.0" }], port: [{ flag: "--port" }, { value: "27017" }] },
    ],
    sources: [{ ref: "mongodb.com/docs/manual/core/security-mongodb-configuration (bind_ip defaults to localhost)", versions: ">=3.6" }],
  },
  {
    names: ["postgres", "postmaster"],
    syntax: "gnu",
    propOptions: ["-c"],
    longOptionProps: true,
    dashUnderscore: true,
    valueOptions: ["-D", "-B", "-d", "-N", "-S", "-r", "-k"],
    binds: [
      {
        form: "hosts",
        address: [{ flag: "-h" }, { prop: "listen-addresses" }, { implicitConfig: "postgresql.conf in the data directory" }, { value: "localhost" }],
        port: [{ flag: "-p" }, { prop: "port" }, { implicitConfig: "postgresql.conf" }, { env: "PGPORT" }, { value: "5432" }],
      },
    ],
    sources: [{ ref: "postgresql.org/docs/current/app-postgres.html (-h, -p, -c name=value, --name=value; PGPORT)" }],
  },
  {
    names: ["mysqld", "mariadbd", "mysqld_safe"],
    syntax: "gnu",
    dashUnderscore: true,
    binds: [
      {
        form: "hosts",
        unlessFlag: ["--skip-networking"],
        address: [{ flag: "--bind-address" }, { implicitConfig: "my.cnf" }, { value: "*" }],
        port: [{ flag: ["--port", "-P"] }, { implicitConfig: "my.cnf" }, { env: "MYSQL_TCP_PORT" }, { value: "3306" }],
      },
    ],
    sources: [{ ref: "dev.mysql.com/doc/refman/8.0/en/server-system-variables.html (bind_address default *, port 3306, MYSQL_TCP_PORT)" }],
  },
  // ---- Python ----
  {
    names: ["uvicorn"],
    syntax: "gnu",
    valueOptions: ["--app-dir", "--workers", "--loop", "--http", "--ws", "--log-level", "--log-config", "--env-file", "--root-path", "--h11-max-incomplete-event-size", "--lifespan", "--interface"],
    binds: [
      {
        form: "address",
        unlessFlag: ["--uds", "--fd"],
        address: [{ flag: "--host" }, { env: "UVICORN_HOST" }, { value: "127.0.0.1" }],
        port: [{ flag: "--port" }, { env: "UVICORN_PORT" }, { value: "8000" }],
      },
    ],
    sources: [{ ref: "uvicorn.org/settings (--host default 127.0.0.1, --port 8000, UVICORN_* env)" }],
  },
  {
    names: ["gunicorn"],
    syntax: "gnu",
    valueOptions: ["-w", "--workers", "-k", "--worker-class", "-t", "--timeout", "--threads", "--log-level", "--access-logfile", "--error-logfile", "--chdir", "--pythonpath", "-e", "--env"],
    binds: [
      {
        form: "address",
        repeatable: true,
        address: [
          { flag: ["-b", "--bind"] },
          { configEnv: "GUNICORN_CMD_ARGS" },
          { configFlag: ["-c", "--config"] },
          { implicitConfig: "./gunicorn.conf.py" },
          { env: "PORT", template: "0.0.0.0:{}" },
          { value: "127.0.0.1:8000" },
        ],
        port: [{ value: "8000" }],
      },
    ],
    sources: [{ ref: "benoitc/gunicorn gunicorn/config.py Bind (default 127.0.0.1:8000, 0.0.0.0:$PORT when PORT is set; ./gunicorn.conf.py read by default)" }],
  },
  {
    names: ["hypercorn"],
    syntax: "gnu",
    binds: [{ form: "address", repeatable: true, address: [{ flag: ["-b", "--bind"] }, { configFlag: ["-c", "--config"] }, { value: "127.0.0.1:8000" }], port: [{ value: "8000" }] }],
    sources: [{ ref: "hypercorn.readthedocs.io/en/latest/how_to_guides/configuring.html (bind default 127.0.0.1:8000)" }],
  },
  {
    names: ["daphne"],
    syntax: "gnu",
    binds: [
      {
        form: "address",
        unlessFlag: ["-u", "--unix-socket", "--fd", "-e", "--endpoint"],
        address: [{ flag: ["-b", "--bind"] }, { value: "127.0.0.1" }],
        port: [{ flag: ["-p", "--port"] }, { value: "8000" }],
      },
    ],
    sources: [{ ref: "django/daphne daphne/cli.py (DEFAULT_HOST 127.0.0.1, DEFAULT_PORT 8000)" }],
  },
  {
    names: ["flask"],
    syntax: "gnu",
    valueOptions: ["--app", "-A", "-e", "--env-file"],
    subcommands: [
      {
        name: "run",
        valueOptions: ["--cert", "--key", "--extra-files", "--exclude-patterns"],
        binds: [
          {
            form: "address",
            address: [{ flag: ["-h", "--host"] }, { env: "FLASK_RUN_HOST" }, { implicitConfig: ".flaskenv / .env (python-dotenv)" }, { value: "127.0.0.1" }],
            port: [{ flag: ["-p", "--port"] }, { env: "FLASK_RUN_PORT" }, { value: "5000" }],
          },
        ],
      },
    ],
    sources: [{ ref: "flask.palletsprojects.com/en/stable/cli (flask run: --host 127.0.0.1, --port 5000, FLASK_RUN_*; .flaskenv loaded)" }],
  },
  {
    // `python manage.py runserver [addrport]`, `django-admin runserver`, `python -m django runserver`.
    names: ["manage.py", "django-admin", "django-admin.py", "django"],
    syntax: "gnu",
    valueOptions: ["--settings", "--pythonpath", "-v", "--verbosity"],
    subcommands: ["runserver", "runserver_plus"].map((name) => ({
      name,
      binds: [
        { form: "address" as const, unlessFlag: ["-6", "--ipv6"], portOnlyHost: "127.0.0.1", address: [{ positional: 0 }, { value: "127.0.0.1:8000" }] },
        { form: "address" as const, whenFlag: ["-6", "--ipv6"], portOnlyHost: "::1", address: [{ positional: 0 }, { value: "[::1]:8000" }] },
      ],
    })),
    sources: [{ ref: "docs.djangoproject.com/en/stable/ref/django-admin/#runserver (default 127.0.0.1:8000; a port alone binds 127.0.0.1; -6: ::1)" }],
  },
  {
    names: ["http.server"],
    syntax: "gnu",
    valueOptions: ["-d", "--directory", "-p", "--protocol"],
    binds: [{ form: "address", address: [{ flag: ["-b", "--bind"] }, { value: "" }], port: [{ positional: 0 }, { value: "8000" }] }],
    sources: [{ ref: "docs.python.org/3/library/http.server.html (python -m http.server [port] --bind ADDRESS; all interfaces, 8000)" }],
  },
  {
    names: ["streamlit"],
    syntax: "gnu",
    subcommands: [
      {
        name: "run",
        binds: [
          {
            form: "address",
            address: [{ flag: "--server.address" }, { env: "STREAMLIT_SERVER_ADDRESS" }, { implicitConfig: ".streamlit/config.toml" }, { value: "" }],
            port: [{ flag: "--server.port" }, { env: "STREAMLIT_SERVER_PORT" }, { value: "8501" }],
          },
        ],
      },
    ],
    sources: [{ ref: "docs.streamlit.io/develop/api-reference/configuration/config.toml (server.address unset: all interfaces, server.port 8501)" }],
  },
  {
    names: ["jupyter-lab", "jupyter-notebook", "jupyter-server"],
    syntax: "gnu",
    binds: jupyterBinds(),
    sources: [{ ref: "jupyter-server.readthedocs.io/en/latest/other/full-config.html (ServerApp.ip localhost, ServerApp.port 8888)" }],
  },
  {
    names: ["jupyter"],
    syntax: "gnu",
    subcommands: ["lab", "notebook", "server"].map((name) => ({ name, binds: jupyterBinds() })),
    sources: [{ ref: "jupyter-server.readthedocs.io/en/latest/other/full-config.html (ServerApp.ip localhost, ServerApp.port 8888)" }],
  },
  {
    names: ["tensorboard"],
    syntax: "gnu",
    binds: [
      { form: "address", unlessFlag: ["--bind_all"], address: [{ flag: "--host" }, { value: "localhost" }], port: [{ flag: "--port" }, { value: "6006" }] },
      { form: "address", whenFlag: ["--bind_all"], address: [{ value: "" }], port: [{ flag: "--port" }, { value: "6006" }] },
    ],
    sources: [{ ref: "tensorflow/tensorboard tensorboard/plugins/core/core_plugin.py (--host default localhost, --bind_all, --port 6006)" }],
  },
  {
    names: ["mlflow"],
    syntax: "gnu",
    subcommands: ["server", "ui"].map((name) => ({
      name,
      binds: [{ form: "address" as const, address: [{ flag: ["-h", "--host"] }, { env: "MLFLOW_HOST" }, { value: "127.0.0.1" }], port: [{ flag: ["-p", "--port"] }, { env: "MLFLOW_PORT" }, { value: "5000" }] }],
    })),
    sources: [{ ref: "mlflow.org/docs/latest/cli.html#mlflow-server (--host default 127.0.0.1, --port 5000)" }],
  },
  {
    names: ["mkdocs"],
    syntax: "gnu",
    subcommands: [{ name: "serve", binds: [{ form: "address", address: [{ flag: ["-a", "--dev-addr"] }, { configFlag: "-f" }, { implicitConfig: "mkdocs.yml dev_addr" }, { value: "127.0.0.1:8000" }] }] }],
    sources: [{ ref: "mkdocs.org/user-guide/configuration/#dev_addr (default 127.0.0.1:8000)" }],
  },
  // ---- PHP, Ruby, Node, Go static sites ----
  {
    // `php -S host:port` (resolve.ts sends php here only when -S is given).
    names: ["php -S"],
    syntax: "gnu",
    valueOptions: ["-t", "-d", "-c", "-z"],
    binds: [{ form: "address", address: [{ flag: "-S" }] }],
    sources: [{ ref: "php.net/manual/en/features.commandline.webserver.php (php -S host:port)" }],
  },
  {
    names: ["artisan"],
    syntax: "gnu",
    subcommands: [
      {
        name: "serve",
        binds: [
          {
            form: "address",
            address: [{ flag: "--host" }, { env: "SERVER_HOST" }, { implicitConfig: ".env (SERVER_HOST)" }, { value: "127.0.0.1" }],
            port: [{ flag: "--port" }, { env: "SERVER_PORT" }, { value: "8000" }],
          },
        ],
      },
    ],
    sources: [{ ref: "laravel/framework src/Illuminate/Foundation/Console/ServeCommand.php (--host 127.0.0.1, --port 8000, SERVER_HOST/SERVER_PORT)" }],
  },
  {
    names: ["rails"],
    syntax: "gnu",
    subcommands: ["server", "s"].map((name) => ({
      name,
      binds: [
        {
          form: "address" as const,
          address: [{ flag: ["-b", "--binding"] }, { implicitConfig: "config/puma.rb; localhost only in development" }, { value: "localhost" }],
          port: [{ flag: ["-p", "--port"] }, { env: "PORT" }, { value: "3000" }],
        },
      ],
    })),
    sources: [{ ref: "guides.rubyonrails.org/command_line.html#bin-rails-server (-b, -p 3000)" }],
  },
  {
    names: ["puma"],
    syntax: "gnu",
    binds: [
      {
        form: "url",
        repeatable: true,
        address: [{ flag: ["-b", "--bind"] }, { configFlag: ["-C", "--config"] }, { implicitConfig: "config/puma.rb" }, { value: "tcp://0.0.0.0" }],
        port: [{ flag: ["-p", "--port"] }, { env: "PORT" }, { value: "9292" }],
      },
    ],
    sources: [{ ref: "puma.io/puma (-b tcp://HOST:PORT; default tcp://0.0.0.0:9292)" }],
  },
  {
    names: ["vite"],
    syntax: "gnu",
    optionalValues: [["--host", ""]],
    binds: viteBinds(5173),
    clientSubcommands: ["build", "optimize"],
    subcommands: [
      { name: "dev", binds: viteBinds(5173) },
      { name: "serve", binds: viteBinds(5173) },
      { name: "preview", binds: viteBinds(4173) },
    ],
    sources: [{ ref: "vite.dev/config/server-options (server.host localhost; --host alone: all addresses; 5173, preview 4173)" }],
  },
  {
    names: ["ng"],
    syntax: "gnu",
    subcommands: ["serve", "s"].map((name) => ({
      name,
      binds: [
        {
          form: "address" as const,
          address: [{ flag: "--host" }, { implicitConfig: "angular.json serve options" }, { value: "localhost" }],
          port: [{ flag: "--port" }, { value: "4200" }],
        },
      ],
    })),
    sources: [{ ref: "angular.dev/cli/serve (--host localhost, --port 4200)" }],
  },
  {
    names: ["next"],
    syntax: "gnu",
    subcommands: ["start", "dev"].map((name) => ({
      name,
      binds: [{ form: "address" as const, address: [{ flag: ["-H", "--hostname"] }, { value: "" }], port: [{ flag: ["-p", "--port"] }, { env: "PORT" }, { value: "3000" }] }],
    })),
    sources: [{ ref: "nextjs.org/docs/app/api-reference/cli/next (-H default 0.0.0.0, -p 3000 or PORT)" }],
  },
  {
    names: ["hugo"],
    syntax: "gnu",
    subcommands: ["server", "serve"].map((name) => ({
      name,
      binds: [{ form: "address" as const, address: [{ flag: "--bind" }, { value: "127.0.0.1" }], port: [{ flag: ["-p", "--port"] }, { value: "1313" }] }],
    })),
    sources: [{ ref: "gohugo.io/commands/hugo_server (--bind 127.0.0.1, --port 1313)" }],
  },
  {
    names: ["jekyll"],
    syntax: "gnu",
    subcommands: ["serve", "server", "s"].map((name) => ({
      name,
      binds: [
        {
          form: "address" as const,
          address: [{ flag: ["-H", "--host"] }, { implicitConfig: "_config.yml host" }, { value: "127.0.0.1" }],
          port: [{ flag: ["-P", "--port"] }, { value: "4000" }],
        },
      ],
    })),
    sources: [{ ref: "jekyllrb.com/docs/configuration/options (host 127.0.0.1, port 4000)" }],
  },
  // ---- .NET and Java frameworks (resolve.ts: `dotnet App.dll`, `java …`, or an unknown program whose environment names the framework) ----
  {
    names: ["aspnetcore"],
    syntax: "dotnet",
    detectEnv: ["ASPNETCORE_URLS", "DOTNET_URLS", "ASPNETCORE_HTTP_PORTS", "ASPNETCORE_HTTPS_PORTS", "DOTNET_HTTP_PORTS", "DOTNET_HTTPS_PORTS"],
    binds: [
      {
        form: "url",
        address: [
          // Kestrel endpoints from configuration replace the URLs altogether ("Overriding address(es)").
          [{ propPattern: ["kestrel:endpoints:", ":url"] }, { envPattern: ["Kestrel__Endpoints__", "__Url"] }],
          { prop: "urls" },
          { env: "ASPNETCORE_URLS" },
          { env: "DOTNET_URLS" },
          [
            { env: "ASPNETCORE_HTTP_PORTS", template: "http://*:{}" },
            { env: "DOTNET_HTTP_PORTS", template: "http://*:{}" },
            { env: "ASPNETCORE_HTTPS_PORTS", template: "https://*:{}" },
            { env: "DOTNET_HTTPS_PORTS", template: "https://*:{}" },
          ],
        ],
      },
    ],
    sources: [
      { ref: "learn.microsoft.com/aspnet/core/fundamentals/servers/kestrel/endpoints (Kestrel endpoints override URLs; --urls over ASPNETCORE_URLS over DOTNET_URLS; HTTP_PORTS lowest)" },
      { ref: "learn.microsoft.com/aspnet/core/fundamentals/host/web-host (ASPNETCORE_URLS wins over DOTNET_URLS)", versions: ">=8.0 for *_HTTP_PORTS" },
    ],
  },
  {
    // Spring Boot and Quarkus applications started with `java`: command-line
    // arguments > SPRING_APPLICATION_JSON > -D system properties > environment > application.properties.
    names: ["java"],
    syntax: "gnu",
    binds: [
      {
        form: "address",
        address: [
          { prop: "server.address" },
          { configEnv: "SPRING_APPLICATION_JSON" },
          { sysprop: "server.address" },
          // SERVER_ADDRESS (relaxed binding) is not read: applications of every kind name the
          // server they call that way. A file or that variable may set it: uncertain below.
          { implicitConfig: "application.properties, SERVER_ADDRESS" },
          { value: "" },
        ],
        port: [{ prop: "server.port" }, { sysprop: "server.port" }, { env: "SERVER_PORT" }, { value: "8080" }],
      },
      {
        form: "address",
        address: [
          { prop: "management.server.address" },
          { configEnv: "SPRING_APPLICATION_JSON" },
          { sysprop: "management.server.address" },
          { env: "MANAGEMENT_SERVER_ADDRESS" },
        ],
        port: [{ prop: "management.server.port" }, { sysprop: "management.server.port" }, { env: "MANAGEMENT_SERVER_PORT" }],
      },
      {
        form: "address",
        address: [{ sysprop: "quarkus.http.host" }, { env: "QUARKUS_HTTP_HOST" }],
        port: [{ sysprop: "quarkus.http.port" }, { env: "QUARKUS_HTTP_PORT" }, { value: "8080" }],
      },
      {
        form: "address",
        address: [{ sysprop: "quarkus.management.host" }, { env: "QUARKUS_MANAGEMENT_HOST" }],
        port: [{ sysprop: "quarkus.management.port" }, { env: "QUARKUS_MANAGEMENT_PORT" }, { value: "9000" }],
      },
    ],
    sources: [
      { ref: "docs.spring.io/spring-boot/reference/features/external-config.html (order of property sources)" },
      { ref: "quarkus.io/guides/all-config (quarkus.http.host, quarkus.management.host)" },
    ],
  },
];

function grafanaBinds(): BindRow[] {
  return [
    {
      form: "address",
      address: [
        { prop: "server.http_addr" },
        { configEnv: "GF_SERVER_HTTP_ADDR__FILE" },
        { env: "GF_SERVER_HTTP_ADDR" },
        { configFlag: "--config" },
        { implicitConfig: "conf/custom.ini" },
        { prop: "default.server.http_addr" },
        { value: "" },
      ],
      port: [{ prop: "server.http_port" }, { env: "GF_SERVER_HTTP_PORT" }, { prop: "default.server.http_port" }, { value: "3000" }],
    },
  ];
}

function etcdRow(flag: string, defaultUrls?: string): BindRow {
  const env = `ETCD_${flag.toUpperCase().split("-").join("_")}`;
  return {
    form: "url",
    address: [{ configFlag: "--config-file" }, { configEnv: "ETCD_CONFIG_FILE" }, { flag: `--${flag}` }, { env }, ...(defaultUrls ? [{ value: defaultUrls }] : [])],
  };
}

function jupyterBinds(): BindRow[] {
  return [
    {
      form: "address",
      address: [{ flag: ["--ip", "--ServerApp.ip", "--NotebookApp.ip"] }, { configFlag: "--config" }, { implicitConfig: "jupyter_server_config.py" }, { value: "localhost" }],
      port: [{ flag: ["--port", "--ServerApp.port", "--NotebookApp.port"] }, { value: "8888" }],
    },
  ];
}

function viteBinds(port: number): BindRow[] {
  return [
    {
      form: "address",
      address: [{ flag: "--host" }, { configFlag: ["--config", "-c"] }, { implicitConfig: "vite.config.* server.host" }, { value: "localhost" }],
      port: [{ flag: "--port" }, { value: String(port) }],
    },
  ];
}
