/**
 * reject-listenlocal-reloader-probes: a context-aware policy on the objects users
 * actually write. A Prometheus / PrometheusAgent / Alertmanager / ThanosRuler with
 * `listenLocal: true` is rejected (or warned about) when the cluster's
 * prometheus-operator would render config-reloader probes that always fail.
 *
 * The policy gathers context — the Deployments in the trusted namespaces, one
 * `kubernetes/list_resources_by_namespace` call each, or the operator pinned in
 * settings — then asks pure functions in src/analysis. It never lists Deployments
 * anywhere else: a tenant's look-alike cannot reach the analysis.
 */
import { decide, monitoringResource, needsOperatorCheck } from "../../src/analysis/prometheus-operator.js";
import {
  DEFAULT_TRUSTED_OPERATORS,
  type IdentifyOptions,
  type NamespaceListing,
  type OperatorEvidence,
  type OperatorLocation,
  operatorsInDeployments,
  parseOperatorFlags,
  parseOperatorLocation,
  parseVersion,
  PROBES_FLAG,
  trustedDeployments,
  trustedNamespaces,
} from "../../src/analysis/prometheus-operator-identity.js";
import { HostCapabilityError } from "../../src/kubewarden/host-capabilities.js";
// A namespace import: the bundle keeps only the capabilities called, which the metadata declares in hostCapabilities.
import * as Kubernetes from "../../src/kubewarden/kubernetes.js";
import { definePolicy } from "../../src/kubewarden/policy.js";
import { accept, reject, type ValidationResponse } from "../../src/kubewarden/protocol.js";
import { settingsParser, type SchemaError, type SchemaValidator } from "../shared/schema.js";
import type { RejectListenlocalReloaderProbesSettings } from "./settings.generated.js";
import validateSchema from "./settings.validate.generated.js";

interface Options {
  action: "reject" | "warn";
  whenNoOperator: "warn" | "accept";
  /** Operator pinned in settings: the host is not asked. */
  pinned: OperatorEvidence | null;
  locations: readonly OperatorLocation[];
  /** As written in the settings, for messages. */
  locationTexts: readonly string[];
  identify: IdentifyOptions;
}

/** Only what the analysis reads: keeps the host's answer small. */
const DEPLOYMENT_FIELDS = [
  "metadata.name",
  "metadata.namespace",
  "metadata.labels",
  "spec.replicas",
  "spec.template.metadata.labels",
  "spec.template.spec.containers.name",
  "spec.template.spec.containers.image",
  "spec.template.spec.containers.command",
  "spec.template.spec.containers.args",
];

function shape(s: RejectListenlocalReloaderProbesSettings): Options {
  let pinned: OperatorEvidence | null = null;
  if (s.operatorVersion !== undefined) {
    const flag = s.configReloaderProbes ? [`--${PROBES_FLAG}`] : [];
    pinned = { name: "pinned in the policy settings", pinned: true, version: parseVersion(s.operatorVersion), flags: parseOperatorFlags(flag) };
  }
  const locationTexts = s.trustedOperators ?? DEFAULT_TRUSTED_OPERATORS;
  return {
    action: s.action ?? "reject",
    whenNoOperator: s.whenNoOperator ?? "warn",
    pinned,
    locations: locationTexts.map(parseOperatorLocation),
    locationTexts,
    identify: { extraImages: s.operatorImages ?? [] },
  };
}

/** The operators at the trusted locations, and the namespace/name locations that named nothing. */
function gather(options: Options): { operators: OperatorEvidence[]; missing: string[] } | HostCapabilityError {
  const listings: NamespaceListing[] = [];
  try {
    for (const namespace of trustedNamespaces(options.locations))
      listings.push({ namespace, items: Kubernetes.listResourcesByNamespace({ api_version: "apps/v1", kind: "Deployment", namespace, field_masks: DEPLOYMENT_FIELDS }).items });
  } catch (e) {
    if (e instanceof HostCapabilityError) return e;
    throw e;
  }
  const { deployments, missing } = trustedDeployments(listings, options.locations);
  return { operators: operatorsInDeployments(deployments, options.identify), missing };
}

/**
 * Settings that do not apply once operatorVersion pins the operator, when they say
 * something other than their default (Rancher's UI sends every default along).
 */
function unusedWithPin(s: RejectListenlocalReloaderProbesSettings): string[] {
  if (s.operatorVersion === undefined) return [];
  const out: string[] = [];
  if (s.trustedOperators !== undefined && s.trustedOperators.join("\n") !== DEFAULT_TRUSTED_OPERATORS.join("\n")) out.push("trustedOperators");
  if (s.operatorImages !== undefined && s.operatorImages.length > 0) out.push("operatorImages");
  if (s.whenNoOperator === "accept") out.push("whenNoOperator");
  return out;
}

/** The schema validator, with messages that say what a version and a location look like, and the one rule a schema cannot word well. */
const validator: SchemaValidator = Object.assign(
  (data: unknown) => {
    let valid = (validateSchema as SchemaValidator)(data);
    const errors = ((validateSchema as SchemaValidator).errors ?? []).map((e): SchemaError => {
      if (e.keyword !== "pattern") return e;
      if (e.instancePath === "/operatorVersion") return { ...e, keyword: "version", message: "must be a version like v0.74.0" };
      if (e.instancePath.startsWith("/trustedOperators/")) return { ...e, keyword: "location", message: "must be a namespace (monitoring) or namespace/name (monitoring/prometheus-operator)" };
      return e;
    });
    if (valid) {
      const unused = unusedWithPin(data as RejectListenlocalReloaderProbesSettings);
      if (unused.length > 0) {
        valid = false;
        errors.push({
          instancePath: "",
          keyword: "pinned",
          params: {},
          message: `operatorVersion pins the operator, so no Deployment is read: ${unused.join(", ")} would not apply (remove ${unused.length > 1 ? "them" : "it"} or operatorVersion)`,
        });
      }
    }
    validator.errors = errors;
    return valid;
  },
  { errors: null as SchemaError[] | null },
);

definePolicy<Options>({
  parseSettings: settingsParser(validator, shape),
  validate(request, options): ValidationResponse {
    if (request.operation === "DELETE" || request.object == null) return accept();
    const resource = monitoringResource(request.object, request.namespace);
    if (!resource || !needsOperatorCheck(resource)) return accept();

    const found = options.pinned ? { operators: [options.pinned], missing: [] } : gather(options);
    if (found instanceof HostCapabilityError)
      return accept({
        warnings: [
          `${resource.kind} ${resource.namespace}/${resource.name} sets spec.listenLocal: true, but prometheus-operator could not be looked up ` +
            `(${found.message}). Pin operatorVersion and configReloaderProbes in the policy settings, or grant the policy apps/v1 Deployment in contextAwareResources.`,
        ],
      });

    const decision = decide(resource, found.operators, { locations: options.locationTexts, missing: found.missing });
    switch (decision.verdict) {
      case "affected":
        return options.action === "warn" ? accept({ warnings: [decision.message] }) : reject(decision.message);
      case "uncertain":
        return accept({ warnings: [decision.message] });
      case "no-operator":
        return options.whenNoOperator === "accept" ? accept() : accept({ warnings: [decision.message] });
      case "clear":
        return accept();
    }
  },
});
