/**
 * The benchmarks' defaults, apart from their code: `bench --help` prints them in
 * the installed CLI too, which loads none of the benchmark code.
 */

/** Node runs per request and module in the traffic mix (hundreds of requests). */
export const MIX_ITERATIONS = 11;
/** Evaluations per request and module of the single-request table. */
export const DEFAULT_ITERATIONS = 200;
/** Objects in the generated fleet `bench --corpus` audits end to end beside the corpus. */
export const CORPUS_FLEET_OBJECTS = 5000;
/** Interleaved rounds of `bench --corpus` (the audit and the parse floor take turns). */
export const CORPUS_ROUNDS = 3;
