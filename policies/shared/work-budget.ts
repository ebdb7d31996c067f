/**
 * The work budget the probe policies declare (src/kubewarden/work-budget.ts).
 *
 * WORK_BUDGET_POLLS interrupt polls are about 3 G wasm
 * instructions of JS (measured with wasmtime fuel: tests/e2e/bad-input.test.ts
 * checks the figure), ~0.75 s under wasmtime on this project's machines; with
 * `JSON.parse` of a 3 MiB request (~0.2 s, not interruptible) an evaluation
 * ends well inside policy-server's default deadline, which interrupts after
 * 1–2 s. Real workloads use a few hundredths of it; only hostile or absurd
 * requests (megabytes of binds, probes or URL lists) get here. The answer lets
 * the request through with a warning, as the container limit does: a policy
 * that guards against mistakes must not turn an object it cannot check in time
 * into a 500.
 */
import { declareWorkBudget } from "../../src/kubewarden/work-budget.js";
import { accept } from "../../src/kubewarden/protocol.js";

export const WORK_BUDGET_POLLS = 250;
/** Numbers JSON.parse must round exactly (int64-sized, exponents): Kubernetes objects carry none or a few. */
export const WORK_BUDGET_HARD_NUMBERS = 2000;

export const WORK_BUDGET_WARNING =
  "not checked: the analysis was stopped at its work budget, before policy-server's deadline (2 s by default) would turn it into an error: the object is too large or too complex to check in time";

/** Declared at the policy's top level, which the build runs before the snapshot. */
export function declareAnalysisWorkBudget(): boolean {
  return declareWorkBudget({ polls: WORK_BUDGET_POLLS, hardNumbers: WORK_BUDGET_HARD_NUMBERS, answer: JSON.stringify(accept({ warnings: [WORK_BUDGET_WARNING] })) });
}
