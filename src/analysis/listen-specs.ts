/**
 * The generic listen settings: flags and environment variables read for every
 * program the knowledge base (programs-knowledge/) does not know by name, as
 * Go's flag and pflag packages read them. They are the settings `listenFlags` /
 * `listenEnvVars` (users replace or extend them); the knowledge base's own rows
 * are not settings.
 */
import type { ListenForm } from "./listen-address.js";

export interface ListenSpec {
  /** Flag name without leading dashes (`listen-address`), or an env var name. */
  name: string;
  form: ListenForm;
  /** Flag / variable that carries the port when the address has none. */
  portFrom?: string;
  /** Port the program uses when neither the address nor `portFrom` gives one. */
  defaultPort?: number;
  /** Default ports that apply only when the container image contains the key. */
  defaultPortByImage?: Record<string, number>;
  /**
   * Every occurrence binds (kingpin `Strings()` flags such as exporter-toolkit's
   * `--web.listen-address`). Otherwise the last occurrence wins, as with Go's
   * flag and pflag packages: `--listen-address=127.0.0.1:8080 --listen-address=:8080`
   * binds only `:8080`.
   */
  repeatable?: boolean;
  /**
   * Clients spell it too (`--addr`, `--address`, `--host` name the server a CLI
   * dials): for a program the knowledge base does not know, such a flag binds only
   * when its own container declares the port and no other container of the pod
   * declares or binds it (reachability.ts). User-defined flags are never ambiguous.
   */
  ambiguous?: boolean;
  /**
   * `name` is a suffix (`-listen-address`; it must end in `address` or `addr`, which the
   * reader tests first): any flag ending in it is a listen flag
   * (`--healthz-listen-address`), paired with the port flag of the same prefix
   * (`--healthz-port`) when its value has no port. Built-in only.
   */
  suffix?: boolean;
}

export const DEFAULT_LISTEN_FLAGS: readonly ListenSpec[] = [
  { name: "listen-address", form: "address" },
  { name: "web.listen-address", form: "address", repeatable: true },
  { name: "cluster.listen-address", form: "address" },
  { name: "http-address", form: "address" },
  { name: "grpc-address", form: "address" },
  { name: "secure-listen-address", form: "address" },
  { name: "insecure-listen-address", form: "address" },
  { name: "host", form: "address", portFrom: "port", defaultPortByImage: { "kube-state-metrics": 8080 }, ambiguous: true },
  { name: "telemetry-host", form: "address", portFrom: "telemetry-port", defaultPortByImage: { "kube-state-metrics": 8081 } },
  { name: "bind-address", form: "address", portFrom: "secure-port" },
  { name: "metrics-bind-address", form: "address" },
  { name: "health-probe-bind-address", form: "address" },
  { name: "healthz-bind-address", form: "address", portFrom: "healthz-port" },
  { name: "metrics-addr", form: "address" },
  { name: "metrics-address", form: "address" }, // CSI drivers
  { name: "health-probe-addr", form: "address" },
  { name: "healthz-addr", form: "address" },
  { name: "health-addr", form: "address" },
  { name: "probe-addr", form: "address" },
  { name: "diagnostic-addr", form: "address" },
  { name: "pprof-addr", form: "address" },
  { name: "debug-addr", form: "address" },
  { name: "bind-addr", form: "address" },
  { name: "listen-addr", form: "address" },
  { name: "address", form: "address", ambiguous: true },
  {
    name: "server.http-listen-address",
    form: "address",
    portFrom: "server.http-listen-port",
    defaultPortByImage: { loki: 3100, mimir: 8080, tempo: 3200 },
  },
  { name: "server.grpc-listen-address", form: "address", portFrom: "server.grpc-listen-port" },
  { name: "listen-metrics-urls", form: "url" },
  { name: "listen-client-urls", form: "url" },
  { name: "listen-peer-urls", form: "url" },
  // Jaeger's host-port flags.
  { name: "admin.http.host-port", form: "address" },
  { name: "http-server.host-port", form: "address" },
  { name: "query.http-server.host-port", form: "address" },
  { name: "query.grpc-server.host-port", form: "address" },
  { name: "collector.http-server.host-port", form: "address" },
  { name: "collector.grpc-server.host-port", form: "address" },
  { name: "addr", form: "address", ambiguous: true }, // OPA's --addr, but loki-canary's -addr is the Loki it queries
  { name: "bind", form: "address" }, // prometheus-example-app and others
  { name: "listen", form: "address" }, // telemeter-client
  // Any flag spelled like a listen address: `--healthz-listen-address` (with `--healthz-port`), `--server.http.listen-addr`.
  { name: "-listen-address", form: "address", suffix: true },
  { name: "-bind-address", form: "address", suffix: true },
  { name: "-listen-addr", form: "address", suffix: true },
  { name: "-bind-addr", form: "address", suffix: true },
  { name: ".listen-address", form: "address", suffix: true },
  { name: ".listen-addr", form: "address", suffix: true },
];

export const DEFAULT_LISTEN_ENV_VARS: readonly ListenSpec[] = [
  { name: "GF_SERVER_HTTP_ADDR", form: "address", portFrom: "GF_SERVER_HTTP_PORT", defaultPort: 3000 },
  { name: "BIND_ADDRESS", form: "address" },
  { name: "LISTEN_ADDRESS", form: "address" },
  // Kafka's listeners (`PLAINTEXT://:9092,CONTROLLER://localhost:9093`): Apache and Confluent images, Bitnami's.
  { name: "KAFKA_LISTENERS", form: "url" },
  { name: "KAFKA_CFG_LISTENERS", form: "url" },
  // linkerd2-proxy (the proxy reads only these; its outbound listener is loopback by design).
  { name: "LINKERD2_PROXY_ADMIN_LISTEN_ADDR", form: "address" },
  { name: "LINKERD2_PROXY_CONTROL_LISTEN_ADDR", form: "address" },
  { name: "LINKERD2_PROXY_INBOUND_LISTEN_ADDR", form: "address" },
  { name: "LINKERD2_PROXY_OUTBOUND_LISTEN_ADDR", form: "address" },
  { name: "LINKERD2_PROXY_OUTBOUND_LISTEN_ADDRS", form: "url" },
];

/** `--flag`, `-flag` and `flag` all name the same flag. */
export function flagName(raw: string): string {
  if (raw.charCodeAt(0) !== 45 /* - */) return raw;
  return raw.slice(raw.charCodeAt(1) === 45 ? 2 : 1);
}
