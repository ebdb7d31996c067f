/**
 * reject-listenlocal-reloader-probes: a context-aware policy on the objects users
 * actually write. A Prometheus / PrometheusAgent / Alertmanager / ThanosRuler with
 * `listenLocal: true` is rejected (or warned about) when the cluster's
 * prometheus-operator would render config-reloader probes that always fail.
 *
 * The policy gathers context (the operator's Deployments through the host, or the
 * version pinned in settings), then asks pure functions in src/analysis.
 */
import {
  affectedMessage,
  assess,
  monitoringResource,
  needsOperatorCheck,
  type OperatorEvidence,
  operatorsInDeployments,
  parseOperatorFlags,
  parseVersion,
  PROBES_FLAG,
  uncertainMessage,
} from "../../src/analysis/prometheus-operator.js";
import { HostCapabilityError, Kubernetes } from "../../src/kubewarden/host-capabilities.js";
import { definePolicy } from "../../src/kubewarden/policy.js";
import { accept, reject, type ValidationResponse } from "../../src/kubewarden/protocol.js";
import { parseWithSchema, type SchemaError, type SchemaValidator } from "../shared/settings.js";
import type { RejectListenlocalReloaderProbesSettings } from "./settings.generated.js";
import validateSchema from "./settings.validate.generated.js";

interface Options {
  action: "reject" | "warn";
  /** Operator pinned in settings: the host is not asked. */
  pinned: OperatorEvidence | null;
}

/** Only what the analysis reads: keeps the host's answer small on large clusters. */
const DEPLOYMENT_FIELDS = [
  "metadata.name",
  "metadata.namespace",
  "spec.replicas",
  "spec.template.spec.containers.image",
  "spec.template.spec.containers.command",
  "spec.template.spec.containers.args",
];

function shape(s: RejectListenlocalReloaderProbesSettings): Options {
  let pinned: OperatorEvidence | null = null;
  if (s.operatorVersion !== undefined) {
    const flag = s.configReloaderProbes ? [`--${PROBES_FLAG}`] : [];
    pinned = { name: "pinned in the policy settings", version: parseVersion(s.operatorVersion), flags: parseOperatorFlags(flag) };
  }
  return { action: s.action ?? "reject", pinned };
}

function operators(options: Options): OperatorEvidence[] | HostCapabilityError {
  if (options.pinned) return [options.pinned];
  try {
    const list = Kubernetes.listAllResources({ api_version: "apps/v1", kind: "Deployment", field_masks: DEPLOYMENT_FIELDS });
    return operatorsInDeployments(list.items);
  } catch (e) {
    if (e instanceof HostCapabilityError) return e;
    throw e;
  }
}

/** The schema validator, with a message for the version pattern that says what a version looks like. */
const validator: SchemaValidator = Object.assign(
  (data: unknown) => {
    const valid = (validateSchema as SchemaValidator)(data);
    validator.errors = ((validateSchema as SchemaValidator).errors ?? []).map(
      (e): SchemaError => (e.keyword === "pattern" && e.instancePath === "/operatorVersion" ? { ...e, keyword: "version", message: "must be a version like v0.74.0" } : e),
    );
    return valid;
  },
  { errors: null as SchemaError[] | null },
);

definePolicy<Options>({
  parseSettings: (raw) => parseWithSchema(validator, raw, shape),
  validate(request, options): ValidationResponse {
    if (request.operation === "DELETE" || request.object == null) return accept();
    const resource = monitoringResource(request.object, request.namespace);
    if (!resource || !needsOperatorCheck(resource)) return accept();

    const found = operators(options);
    if (found instanceof HostCapabilityError)
      return accept({
        warnings: [
          `${resource.kind} ${resource.namespace}/${resource.name} sets spec.listenLocal: true, but prometheus-operator could not be looked up ` +
            `(${found.message}). Pin operatorVersion and configReloaderProbes in the policy settings, or grant the policy apps/v1 Deployment in contextAwareResources.`,
        ],
      });

    const assessment = assess(resource, found);
    if (assessment.affected.length > 0) {
      const message = affectedMessage(resource, assessment);
      return options.action === "warn" ? accept({ warnings: [message] }) : reject(message);
    }
    if (assessment.unknown.length > 0) return accept({ warnings: [uncertainMessage(resource, assessment)] });
    return accept();
  },
});
