/**
 * V8 compiles a wasm function twice when it gets hot: first with its baseline
 * compiler (Liftoff), then again, on a background thread, with TurboFan. In a
 * process that lives seconds the second compile does not pay for itself: the
 * policies' QuickJS interpreter loop alone is a 37 KB function that takes
 * 100–175 ms of TurboFan time per module, and an audit paid ~0.25 s of CPU for
 * one file and ~0.43 s for ../shared/corpus, on the cores its reading and
 * evaluations need, to gain nothing measurable (a 25,000-object audit was
 * still faster without it: see README, Performance).
 *
 * The flag is V8's and process-wide (worker threads included). V8 reads it when
 * it creates a module's compilation state, so it must be set before the
 * process compiles any module, as the audit command does first.
 */
import { setFlagsFromString } from "node:v8";

export function compileWasmWithBaselineOnly(): void {
  setFlagsFromString("--liftoff-only");
}
