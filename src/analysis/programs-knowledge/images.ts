/**
 * What official and common images run when a container sets no `command`
 * (Kubernetes: `command` replaces the image's ENTRYPOINT, `args` replaces its CMD).
 * Each row says whether the entrypoint is the program itself, a script that runs
 * it (and what the script adds), or absent (then CMD, or the container's args, is
 * the whole command line).
 */
import type { ImageEntry } from "./types.js";

export const IMAGES: readonly ImageEntry[] = [
  // ---- the program is the entrypoint ----
  { repositories: ["grafana/synthetic-monitoring-agent"], program: "synthetic-monitoring-agent", kind: "binary", sources: [{ ref: "grafana/synthetic-monitoring-agent Dockerfile (ENTRYPOINT synthetic-monitoring-agent)" }] },
  {
    repositories: ["grafana/alloy"],
    program: "alloy",
    kind: "binary",
    cmd: ["run", "/etc/alloy/config.alloy", "--storage.path=/var/lib/alloy/data"],
    sources: [{ ref: "grafana/alloy Dockerfile (ENTRYPOINT /bin/alloy, CMD run /etc/alloy/config.alloy …)" }],
  },
  { repositories: ["grafana/agent"], program: "grafana-agent", kind: "binary", sources: [{ ref: "grafana/agent cmd/grafana-agent/Dockerfile (ENTRYPOINT /bin/grafana-agent)" }] },
  { repositories: ["grafana/loki"], program: "loki", kind: "binary", cmd: ["-config.file=/etc/loki/local-config.yaml"], sources: [{ ref: "grafana/loki cmd/loki/Dockerfile" }] },
  { repositories: ["grafana/loki-canary"], program: "loki-canary", kind: "binary", sources: [{ ref: "grafana/loki cmd/loki-canary/Dockerfile" }] },
  { repositories: ["grafana/mimir"], program: "mimir", kind: "binary", sources: [{ ref: "grafana/mimir cmd/mimir/Dockerfile" }] },
  { repositories: ["grafana/tempo"], program: "tempo", kind: "binary", sources: [{ ref: "grafana/tempo cmd/tempo/Dockerfile" }] },
  {
    // /run.sh: exec grafana server --homepath=… --config="$GF_PATHS_CONFIG" … "$@" cfg:default.…
    repositories: ["grafana/grafana", "grafana/grafana-oss", "grafana/grafana-enterprise"],
    program: "grafana",
    kind: "binary",
    prefix: ["server"],
    adds: [{ option: "--config", value: "/etc/grafana/grafana.ini" }],
    scripts: ["/run.sh", "run.sh"],
    sources: [{ ref: "grafana/grafana packaging/docker/run.sh" }],
  },
  { repositories: ["openpolicyagent/opa"], program: "opa", kind: "binary", sources: [{ ref: "open-policy-agent/opa Dockerfile (ENTRYPOINT /opa)" }] },
  {
    repositories: ["oauth2-proxy/oauth2-proxy", "pusher/oauth2_proxy"],
    program: "oauth2-proxy",
    kind: "binary",
    sources: [{ ref: "oauth2-proxy/oauth2-proxy Dockerfile (ENTRYPOINT /bin/oauth2-proxy)" }],
  },
  {
    repositories: ["cloud-sql-connectors/cloud-sql-proxy"],
    program: "cloud-sql-proxy",
    kind: "binary",
    sources: [{ ref: "GoogleCloudPlatform/cloud-sql-proxy Dockerfile (ENTRYPOINT /cloud-sql-proxy)" }],
  },
  {
    // ENTRYPOINT ["/usr/bin/entrypoint.sh", "--bind-addr", "0.0.0.0:8080", "."]: the container's args follow (a later --bind-addr wins).
    repositories: ["codercom/code-server"],
    program: "code-server",
    kind: "binary",
    adds: [{ option: "--bind-addr", value: "0.0.0.0:8080" }],
    sources: [{ ref: "coder/code-server ci/release-image/Dockerfile" }],
  },
  {
    repositories: ["cloudflare/cloudflared"],
    program: "cloudflared",
    kind: "binary",
    adds: [{ option: "--no-autoupdate" }],
    sources: [{ ref: "cloudflare/cloudflared Dockerfile (ENTRYPOINT cloudflared --no-autoupdate)" }],
  },
  { repositories: ["alpine/socat"], program: "socat", kind: "binary", sources: [{ ref: "alpine-docker/socat Dockerfile (ENTRYPOINT socat)" }] },
  { repositories: ["istio/proxyv2"], program: "pilot-agent", kind: "binary", sources: [{ ref: "istio/istio pilot/docker/Dockerfile.proxyv2 (ENTRYPOINT /usr/local/bin/pilot-agent)" }] },
  { repositories: ["prom/prometheus", "prometheus/prometheus"], program: "prometheus", kind: "binary", sources: [{ ref: "prometheus/prometheus Dockerfile" }] },
  { repositories: ["prom/alertmanager", "prometheus/alertmanager"], program: "alertmanager", kind: "binary", sources: [{ ref: "prometheus/alertmanager Dockerfile" }] },
  { repositories: ["prom/node-exporter", "prometheus/node-exporter"], program: "node_exporter", kind: "binary", sources: [{ ref: "prometheus/node_exporter Dockerfile" }] },
  { repositories: ["kube-state-metrics"], program: "kube-state-metrics", kind: "binary", sources: [{ ref: "kubernetes/kube-state-metrics Dockerfile (ENTRYPOINT /kube-state-metrics)" }] },
  // ---- no entrypoint: CMD is the command, and the container's args replace it ----
  { repositories: ["coreos/etcd", "etcd-development/etcd"], program: "etcd", kind: "none", cmd: ["/usr/local/bin/etcd"], sources: [{ ref: "etcd-io/etcd Dockerfile (CMD /usr/local/bin/etcd)" }] },
  // ---- docker-entrypoint.sh scripts that run the program ----
  {
    repositories: ["hashicorp/vault", "library/vault"],
    program: "vault",
    kind: "script",
    cmd: ["server", "-dev"],
    passes: ["server", "agent", "proxy", "version"],
    scripts: ["docker-entrypoint.sh"],
    adds: [
      { option: "-config", value: "/vault/config", subcommand: "server" },
      { option: "-dev-listen-address", fromEnv: "VAULT_DEV_LISTEN_ADDRESS", value: "0.0.0.0:8200", subcommand: "server" },
    ],
    sources: [{ ref: "hashicorp/docker-vault 0.X/docker-entrypoint.sh (-dev-listen-address=${VAULT_DEV_LISTEN_ADDRESS:-0.0.0.0:8200})" }],
  },
  {
    repositories: ["hashicorp/consul", "library/consul"],
    program: "consul",
    kind: "script",
    cmd: ["agent", "-dev", "-client", "0.0.0.0"],
    passes: ["agent"],
    scripts: ["docker-entrypoint.sh"],
    adds: [{ option: "-config-dir", value: "/consul/config", subcommand: "agent" }],
    sources: [{ ref: "hashicorp/docker-consul 0.X/docker-entrypoint.sh (consul agent -data-dir … -config-dir=/consul/config $CONSUL_BIND $CONSUL_CLIENT)" }],
  },
  {
    repositories: ["library/mongo"],
    program: "mongod",
    kind: "script",
    cmd: ["mongod"],
    passes: ["mongod"],
    scripts: ["docker-entrypoint.sh"],
    adds: [{ option: "--bind_ip_all", unless: ["--bind_ip", "--bind_ip_all", "--config", "-f"] }],
    sources: [{ ref: "docker-library/mongo docker-entrypoint.sh (adds --bind_ip_all unless --bind_ip is given)" }],
  },
  { repositories: ["library/redis", "valkey/valkey", "library/valkey"], program: "redis-server", kind: "script", cmd: ["redis-server"], passes: ["redis-server", "valkey-server"], scripts: ["docker-entrypoint.sh"], sources: [{ ref: "docker-library/redis docker-entrypoint.sh" }] },
  { repositories: ["library/memcached"], program: "memcached", kind: "script", cmd: ["memcached"], passes: ["memcached"], scripts: ["docker-entrypoint.sh"], sources: [{ ref: "docker-library/memcached docker-entrypoint.sh" }] },
  { repositories: ["library/postgres"], program: "postgres", kind: "script", cmd: ["postgres"], passes: ["postgres"], scripts: ["docker-entrypoint.sh"], sources: [{ ref: "docker-library/postgres docker-entrypoint.sh" }] },
  { repositories: ["library/mysql"], program: "mysqld", kind: "script", cmd: ["mysqld"], passes: ["mysqld"], scripts: ["docker-entrypoint.sh"], sources: [{ ref: "docker-library/mysql docker-entrypoint.sh" }] },
  { repositories: ["library/mariadb"], program: "mariadbd", kind: "script", cmd: ["mariadbd"], passes: ["mariadbd", "mysqld"], scripts: ["docker-entrypoint.sh"], sources: [{ ref: "MariaDB/mariadb-docker docker-entrypoint.sh" }] },
];
