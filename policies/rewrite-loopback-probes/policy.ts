/**
 * rewrite-loopback-probes: replaces kubelet probes that can never succeed
 * (port bound only on loopback) with exec probes run inside the pod, as
 * prometheus-operator v0.75.0 does for its config-reloader.
 */
import { checkWorkload, describeWorkload, type AnalysisOptions } from "../../src/analysis/reachability.js";
import { rewriteUnreachableProbes, type RewriteStrategy } from "../../src/analysis/rewrite.js";
import { definePolicy } from "../../src/kubewarden/policy.js";
import { declareCleanRequestPrecheck } from "../shared/precheck.js";
import { accept, type KubernetesObject, mutate } from "../../src/kubewarden/protocol.js";
import { analysisOptions, parseWithSchema, type SchemaValidator } from "../shared/settings.js";
import type { RewriteLoopbackProbesSettings } from "./settings.generated.js";
import validateSchema from "./settings.validate.generated.js";

interface RewriteOptions {
  analysis: AnalysisOptions;
  strategy: RewriteStrategy;
}

definePolicy<RewriteOptions>({
  parseSettings: (raw) =>
    parseWithSchema(validateSchema as SchemaValidator, raw, (s: RewriteLoopbackProbesSettings) => ({
      analysis: analysisOptions(s),
      strategy: s.strategy ?? "exec",
    })),
  validate(request, options) {
    if (request.operation === "DELETE" || request.object == null) return accept();
    const { workload, findings, malformed } = checkWorkload(request.object, options.analysis);
    // Malformed objects are left alone (the API server rejects them anyway); say why.
    if (workload && malformed.length > 0) return accept({ warnings: [`${describeWorkload(workload)}: not rewritten, malformed object: ${malformed.join("; ")}`] });
    const { object, changes } = rewriteUnreachableProbes(request.object, findings, options.strategy);
    if (changes.length === 0) return accept();
    return mutate(object as KubernetesObject, { warnings: changes.map((c) => c.description) });
  },
});

// Clean workloads with default settings are answered natively, before any JS runs.
declareCleanRequestPrecheck();
