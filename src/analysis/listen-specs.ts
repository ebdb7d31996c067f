/**
 * Where listen addresses are spelled: the flags and environment variables we
 * read, with their paired port flag and known default ports.
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
}

export const DEFAULT_LISTEN_FLAGS: readonly ListenSpec[] = [
  { name: "listen-address", form: "address" },
  { name: "web.listen-address", form: "address", repeatable: true },
  { name: "cluster.listen-address", form: "address" },
  { name: "http-address", form: "address" },
  { name: "grpc-address", form: "address" },
  { name: "secure-listen-address", form: "address" },
  { name: "insecure-listen-address", form: "address" },
  { name: "host", form: "address", portFrom: "port", defaultPortByImage: { "kube-state-metrics": 8080 } },
  { name: "telemetry-host", form: "address", portFrom: "telemetry-port", defaultPortByImage: { "kube-state-metrics": 8081 } },
  { name: "bind-address", form: "address", portFrom: "secure-port" },
  { name: "metrics-bind-address", form: "address" },
  { name: "health-probe-bind-address", form: "address" },
  { name: "healthz-bind-address", form: "address" },
  { name: "metrics-addr", form: "address" },
  { name: "address", form: "address" },
  {
    name: "server.http-listen-address",
    form: "address",
    portFrom: "server.http-listen-port",
    defaultPortByImage: { loki: 3100, mimir: 8080, tempo: 3200 },
  },
  { name: "server.grpc-listen-address", form: "address", portFrom: "server.grpc-listen-port" },
  { name: "listen-metrics-urls", form: "url" },
  { name: "listen-client-urls", form: "url" },
  { name: "addr", form: "address" }, // OPA: opa run --server --addr=localhost:8181
  { name: "bind", form: "address" }, // prometheus-example-app and others
  { name: "listen", form: "address" }, // telemeter-client
];

export const DEFAULT_LISTEN_ENV_VARS: readonly ListenSpec[] = [
  { name: "GF_SERVER_HTTP_ADDR", form: "address", portFrom: "GF_SERVER_HTTP_PORT", defaultPort: 3000 },
  { name: "BIND_ADDRESS", form: "address" },
  { name: "LISTEN_ADDRESS", form: "address" },
  { name: "ASPNETCORE_URLS", form: "url" },
];

/** `--flag`, `-flag` and `flag` all name the same flag. */
export function flagName(raw: string): string {
  if (raw.charCodeAt(0) !== 45 /* - */) return raw;
  return raw.slice(raw.charCodeAt(1) === 45 ? 2 : 1);
}
