/**
 * Declaring a work budget: how much JS a validate may run before the glue stops
 * it and writes a declared answer instead.
 *
 * policy-server interrupts an evaluation at its deadline (2 s by default: epoch
 * ticks of 1 s, so after 1–2 s) and answers 500, which with `failurePolicy:
 * Fail` refuses the request. The analysis is linear in the request, but a
 * hostile 3 MiB request can still cost several seconds of QuickJS. QuickJS polls
 * for interrupts every few thousand branches and calls; the glue counts those
 * polls and, past the budget, interrupts the script — an interrupt no JS
 * `catch` can intercept — and writes the declared answer (unless the policy had
 * already written its own). Counting polls rather than reading a clock keeps
 * every answer deterministic: the same under every engine, on every machine, at
 * any load, and the same wasm instruction count each time.
 *
 * The budget applies to validate requests that reach JS (not to the native
 * pre-check, nor to validate-settings). Under a plain Javy build there is no
 * glue: the declaration is a no-op.
 */
declare const __lpp_declareWorkBudget: ((polls: number, answer: string, hardNumbers: number) => boolean) | undefined;

export interface WorkBudget {
  /** Interrupt polls QuickJS may make (each after some thousands of branches or calls). */
  polls: number;
  /** Exactly what to write on stdout when the budget is spent (one JSON answer). */
  answer: string;
  /**
   * Numbers with more than 15 digits or an exponent allowed in the request (0: no
   * limit). `JSON.parse` cannot be interrupted and rounds each of them with
   * arbitrary precision (~0.1 M wasm instructions apiece); past this many the
   * glue answers before parsing.
   */
  hardNumbers?: number;
}

/** Install the budget (at build time, before the snapshot). False when the glue has none. */
export function declareWorkBudget(budget: WorkBudget): boolean {
  return typeof __lpp_declareWorkBudget === "function" ? __lpp_declareWorkBudget(budget.polls, budget.answer, budget.hardNumbers ?? 0) : false;
}
