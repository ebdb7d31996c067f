/**
 * V8 tunes its compilers for programs that run long: it spends background CPU
 * on optimized code that pays back over minutes. An audit lives a second or
 * two on two cores that its reading (the critical path, on the main thread)
 * and its evaluation threads already keep busy, so every millisecond a
 * compiler thread takes is taken from them. `tierForShortRuns` sets two of
 * V8's flags; both are process-wide (worker threads included) and must be set
 * before the code they concern first runs, as the audit command does first.
 *
 * Wasm: V8 compiles a wasm function twice when it gets hot, first with its
 * baseline compiler (Liftoff), then again, in the background, with TurboFan.
 * The policies' QuickJS interpreter loop alone is a 37 KB function that takes
 * 100–175 ms of TurboFan time per module: an audit paid ~0.25 s of CPU for one
 * file and ~0.43 s for ../shared/corpus for nothing measurable (a
 * 25,000-object audit was still faster without it: see README, Performance).
 * `--liftoff-only`: V8 reads it when it creates a module's compilation state.
 *
 * JavaScript: V8 marks a function for TurboFan once it has run a budget of
 * bytecode (`--interrupt-budget`, 66 KiB in Node 20). On the corpus that made
 * 184 TurboFan compilations (the reader's functions again after each
 * deoptimization, whole functions again for a loop's on-stack replacement),
 * ~1.1 s of compile time, ~0.7 s of it CPU on the two cores. Four times the
 * budget leaves TurboFan the functions that stay hot (85 compilations, 0.48 s):
 * the corpus −0.26 s of CPU and −0.05 to −0.1 s of wall, the 5,000-object fleet
 * −0.13 s of CPU; a 25,000-object audit, where optimized code has time to pay,
 * +0.1 s (4%). V8 reads the budget when a function's feedback is set up.
 */
import { setFlagsFromString } from "node:v8";

/** V8's interrupt budget (bytecode run before a function is considered for TurboFan): 4× Node 20's default. */
export const SHORT_RUN_INTERRUPT_BUDGET = 4 * 67584;

export function tierForShortRuns(): void {
  setFlagsFromString("--liftoff-only");
  setFlagsFromString(`--interrupt-budget=${SHORT_RUN_INTERRUPT_BUDGET}`);
}
