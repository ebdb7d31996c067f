/**
 * A deterministic fleet for audit benchmarks: one multi-document YAML stream of
 * the kinds a cluster export holds (Deployments, StatefulSets, DaemonSets,
 * CronJobs, Services, ConfigMaps), realistic in size and shape, with a few
 * workloads that bind loopback and probe the pod IP (about one in forty).
 */
import { stringify } from "yaml";

/** A small deterministic PRNG (mulberry32): the same fleet for the same count, every run (and the same layouts in tests). */
export function rng(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TEAMS = ["payments", "search", "checkout", "identity", "catalog", "shipping", "ads", "ml-serving"];

function container(name: string, port: number, broken: boolean, random: () => number): Record<string, unknown> {
  const bind = broken ? `127.0.0.1:${port}` : `:${port}`;
  return {
    name,
    image: `ghcr.io/acme/${name}:${1 + Math.floor(random() * 9)}.${Math.floor(random() * 30)}.${Math.floor(random() * 10)}`,
    args: [`--listen-address=${bind}`, "--log.format=json", `--config=/etc/${name}/config.yaml`],
    env: [
      { name: "OTEL_EXPORTER_OTLP_ENDPOINT", value: "http://otel-collector.observability.svc:4317" },
      { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
      { name: "GOMAXPROCS", value: String(1 + Math.floor(random() * 4)) },
    ],
    ports: [{ name: "http", containerPort: port, protocol: "TCP" }],
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "512Mi" } },
    livenessProbe: { httpGet: { path: "/livez", port, scheme: "HTTP" }, periodSeconds: 10, timeoutSeconds: 1, failureThreshold: 3 },
    readinessProbe: { httpGet: { path: "/readyz", port: "http", scheme: "HTTP" }, periodSeconds: 5, timeoutSeconds: 1 },
    securityContext: { runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
  };
}

function workload(kind: string, i: number, random: () => number): Record<string, unknown> {
  const team = TEAMS[i % TEAMS.length]!;
  const name = `${team}-svc-${i}`;
  const broken = i % 40 === 7;
  const labels = { "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": team, "app.kubernetes.io/managed-by": "argocd" };
  const containers = [container(name.slice(0, 40), 8000 + (i % 1000), broken, random)];
  if (i % 5 === 0) containers.push({ name: "log-shipper", image: "fluent/fluent-bit:3.1", args: ["--config=/fluent-bit/etc/fluent-bit.yaml"], resources: { requests: { cpu: "10m", memory: "32Mi" } } });
  const podSpec = { serviceAccountName: team, containers, volumes: [{ name: "config", configMap: { name: `${name}-config` } }] };
  const template = { metadata: { labels }, spec: podSpec };
  const metadata = { name, namespace: team, labels, annotations: { "argocd.argoproj.io/tracking-id": `${team}:apps/${kind}:${team}/${name}` } };
  switch (kind) {
    case "StatefulSet":
      return { apiVersion: "apps/v1", kind, metadata, spec: { serviceName: name, replicas: 3, selector: { matchLabels: { "app.kubernetes.io/name": name } }, template } };
    case "DaemonSet":
      return { apiVersion: "apps/v1", kind, metadata, spec: { selector: { matchLabels: { "app.kubernetes.io/name": name } }, template } };
    case "CronJob":
      return { apiVersion: "batch/v1", kind, metadata, spec: { schedule: "*/15 * * * *", jobTemplate: { spec: { template: { ...template, spec: { ...podSpec, restartPolicy: "OnFailure" } } } } } };
    default:
      return { apiVersion: "apps/v1", kind: "Deployment", metadata, spec: { replicas: 2, selector: { matchLabels: { "app.kubernetes.io/name": name } }, template } };
  }
}

/** `count` objects as one YAML stream; returns the text and how many workloads bind loopback. */
export function fleetYaml(count: number, seed = 20261125): { text: string; broken: number } {
  const random = rng(seed);
  const docs: string[] = [];
  let broken = 0;
  for (let i = 0; i < count; i++) {
    const roll = i % 20;
    let object: Record<string, unknown>;
    if (roll < 10) object = workload("Deployment", i, random);
    else if (roll < 12) object = workload("StatefulSet", i, random);
    else if (roll < 13) object = workload("DaemonSet", i, random);
    else if (roll < 14) object = workload("CronJob", i, random);
    else if (roll < 17) object = { apiVersion: "v1", kind: "Service", metadata: { name: `svc-${i}`, namespace: TEAMS[i % TEAMS.length] }, spec: { selector: { app: `svc-${i}` }, ports: [{ name: "http", port: 80, targetPort: "http" }] } };
    else object = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: `config-${i}`, namespace: TEAMS[i % TEAMS.length] }, data: { "config.yaml": `level: info\nretries: ${i % 7}\n` } };
    if (roll < 14 && i % 40 === 7) broken++;
    docs.push(stringify(object));
  }
  return { text: docs.join("---\n"), broken };
}
