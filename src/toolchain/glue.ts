/**
 * The glue module: a small WebAssembly text module that turns the quickjs-wasi
 * *reactor* engine into a WASI *command* (`_start`) with Javy's JS-facing API.
 *
 * It imports the engine's exports from module `qjs` (memory included, so the
 * merged module has exactly one memory) and serves the engine's `env.*`
 * imports. The scripts arrive as QuickJS bytecode compiled at build time; it
 * lives in passive data segments copied into `wasm_malloc`'d buffers at
 * initialisation: the glue owns no fixed addresses, so it can never collide
 * with the engine's heap.
 *
 * Two evaluation modes:
 * - `preevaluated` (default): `wizer.initialize` runs the prelude AND the policy
 *   bundle's top level; Wizer snapshots the result; `_start` only reseeds the
 *   PRNG and calls the entry the bundle registered.
 * - `javy`: `wizer.initialize` runs the prelude and keeps the bundle's
 *   bytecode; `_start` evaluates it (top level at run time), which is what a
 *   Javy-built module does. Kept for honest benchmarking.
 *
 * The toolchain knows nothing about probes or Kubewarden policies: it turns a
 * bundled script into a command module.
 */

export type EvaluationMode = "preevaluated" | "javy";

export interface GlueOptions {
  /** The bundled policy script, plain JS (read for the host calls it uses). */
  bundle: string;
  /**
   * The runtime prelude (Javy.IO, console, TextEncoder, …) and the bundle,
   * compiled to QuickJS bytecode at build time (build.ts, compileScripts): the
   * module carries bytecode, not source. Compiling outside the snapshot keeps the
   * parser's freed scratch memory out of the module's data, and with the source
   * text stripped the heap does not hold the bundle a second time.
   */
  bytecode: { prelude: Uint8Array; bundle: Uint8Array };
  mode: EvaluationMode;
  /** Bytes of C (shadow) stack QuickJS may use before throwing RangeError. */
  maxStackBytes: number;
  /** Upper bound of the engine's JS heap in bytes (allocation failure → catchable error). */
  memoryLimitBytes: number;
  /**
   * Bytes allocated before QuickJS runs its cycle collector. Every evaluation runs
   * in a fresh instance that is thrown away, so collecting is wasted work unless
   * the heap grows large; 0 keeps QuickJS's default.
   */
  gcThresholdBytes: number;
  /** quickjs-wasi intrinsics bitmask for qjs_init2 (see ENGINE_INTRINSICS). */
  intrinsics: number;
  /**
   * Link Kubewarden's host-call import (`kubewarden:javy/host` `call`) and give the
   * script `__hostCall`. Default: only when the bundle refers to `__hostCall`
   * (see usesHostCalls), so modules that never ask the host import WASI only.
   */
  hostCalls?: boolean;
  /**
   * Honour a native pre-check the policy declares (src/kubewarden/native-precheck.ts). Off
   * builds answer every request in JS: the differential soundness tests compare both.
   */
  nativePrecheck: boolean;
}

/** quickjs-wasi `Intrinsics` flags. */
export const INTRINSIC = {
  DATE: 1,
  EVAL: 2,
  REGEXP: 4,
  JSON: 8,
  PROXY: 16,
  MAP_SET: 32,
  TYPED_ARRAYS: 64,
  PROMISE: 128,
  BIG_INT: 256,
  WEAK_REF: 512,
  PERFORMANCE: 1024,
  DOM_EXCEPTION: 2048,
  ATOB_BTOA: 4096,
} as const;

/**
 * What policies get: the language core plus Date, RegExp, JSON, Map/Set/WeakMap,
 * typed arrays, Promise and BigInt, and eval (the glue evaluates scripts through
 * it). Left out, because policies have no use for them and every intrinsic costs
 * heap in the snapshot and time per instance: Proxy/Reflect, WeakRef,
 * performance, DOMException, atob/btoa.
 */
export const ENGINE_INTRINSICS =
  INTRINSIC.DATE | INTRINSIC.EVAL | INTRINSIC.REGEXP | INTRINSIC.JSON | INTRINSIC.MAP_SET | INTRINSIC.TYPED_ARRAYS | INTRINSIC.PROMISE | INTRINSIC.BIG_INT;

/** Host functions the prelude receives; the last letter selects the handler in `host_call`. */
export const HOST_FUNCTIONS = {
  read: "__lpp_host_r",
  write: "__lpp_host_w",
  decodeUtf8: "__lpp_host_d",
  encodeUtf8: "__lpp_host_e",
  argv1: "__lpp_host_a",
  random: "__lpp_host_x",
  jsonDepth: "__lpp_host_j",
  hostCall: "__lpp_host_h",
  installPrecheck: "__lpp_host_p",
  stdinLength: "__lpp_host_n",
  precheckVerdict: "__lpp_host_v",
  workBudget: "__lpp_host_t",
} as const;

/** The file names the scripts' bytecode (and so their stack traces) carry. */
export const SCRIPT_FILES = { prelude: "prelude.js", bundle: "policy.js" } as const;

/** Bytes of stdin the glue reads natively before any JS runs (more is read by JS from the descriptor). */
/**
 * Names and references the native pre-check records per scope (see the rule
 * roles in src/kubewarden/native-precheck.ts); more of either falls back to JS.
 */
export const MAX_SCOPE_NAMES = 32;

export const NATIVE_STDIN_CAP = 64 * 1024 * 1024;

/**
 * The host-call import, as policy-evaluator links it for WASI modules
 * (crates/policy-evaluator/src/runtimes/wasi_cli/stack_pre.rs, add_host_call_to_linker):
 * call(bd_ptr, bd_len, ns_ptr, ns_len, op_ptr, op_len, ptr, len: i32) -> i32.
 * It is the import Javy's Kubewarden plugin declares (policy-sdk-js,
 * javy-plugin-kubewarden/wit/world.wit); `kwctl annotate` renames the module to `host`.
 */
export const HOST_CALL_IMPORT = { module: "kubewarden:javy/host", name: "call" } as const;

/**
 * The global the script calls, with the Javy Kubewarden plugin's signature
 * (`__hostCall(binding, namespace, operation, payload: ArrayBuffer) -> boolean`,
 * true = success): code written for @kubewarden/policy-sdk runs unchanged.
 */
export const HOST_CALL_GLOBAL = "__hostCall";

/**
 * Does the bundle ask the host for anything? Minifiers keep free global names,
 * so a bundle that can call `__hostCall` contains that name.
 */
export function usesHostCalls(bundle: string): boolean {
  return bundle.includes(HOST_CALL_GLOBAL);
}

/** Engine WASI imports the glue serves (fixed values until initialised) so snapshots are reproducible. */
export const DETERMINISTIC_DURING_INIT = ["clock_time_get", "random_get"] as const;

/** Globals the prelude defines and `_start` calls. */
export const PRELUDE_ENTRY_POINTS = { reseed: "__lpp_reseed", main: "__lpp_main" } as const;

/** Encode bytes as a WAT string literal body. */
function watBytes(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) {
    if (b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c) out += String.fromCharCode(b);
    else out += "\\" + b.toString(16).padStart(2, "0");
  }
  return out;
}

/** A table of NUL-terminated C strings packed into one segment, with their offsets. */
class StringTable {
  private parts: Uint8Array[] = [];
  private size = 0;
  private readonly encoder = new TextEncoder();
  add(text: string): { offset: number; length: number } {
    const bytes = this.encoder.encode(text + "\0");
    const offset = this.size;
    this.parts.push(bytes);
    this.size += bytes.length;
    return { offset, length: bytes.length - 1 };
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

export function glueWat(options: GlueOptions): string {
  const prelude = options.bytecode.prelude;
  const bundle = options.bytecode.bundle;
  const strings = new StringTable();
  const hostCalls = options.hostCalls ?? usesHostCalls(options.bundle);
  const hostNames = Object.values(HOST_FUNCTIONS)
    .filter((name) => hostCalls || name !== HOST_FUNCTIONS.hostCall)
    .map((name) => ({ name, ...strings.add(name) }));
  const reseedName = strings.add(PRELUDE_ENTRY_POINTS.reseed);
  const mainName = strings.add(PRELUDE_ENTRY_POINTS.main);
  const initFailed = strings.add("loopback-probes glue: initialisation failed: ");
  const runFailed = strings.add("loopback-probes glue: uncaught error: ");
  const validateAction = strings.add("validate");
  const stringBytes = strings.bytes();
  const javy = options.mode === "javy" ? 1 : 0;

  const registerHostFunctions = hostNames
    .map(
      (h) => `    (local.set $fn (call $qjs_new_host_function (i32.add (global.get $strings) (i32.const ${h.offset})) (i32.const ${h.length}) (i32.const 4)))
    (drop (call $qjs_set_prop_string (local.get $global) (i32.add (global.get $strings) (i32.const ${h.offset})) (local.get $fn)))
    (call $qjs_free_value (local.get $fn))`,
    )
    .join("\n");

  return `(module
  ;; --- the engine (module "qjs" in wasm-merge) ---
  (import "qjs" "memory" (memory 1))
  (import "qjs" "_initialize" (func $qjs_initialize))
  (import "qjs" "qjs_init2" (func $qjs_init2 (param i32) (result i32)))
  (import "qjs" "qjs_set_max_stack_size" (func $qjs_set_max_stack_size (param i32)))
  (import "qjs" "qjs_set_memory_limit" (func $qjs_set_memory_limit (param i32)))
  (import "qjs" "qjs_run_gc" (func $qjs_run_gc))
  (import "qjs" "qjs_set_gc_threshold" (func $qjs_set_gc_threshold (param i32)))
  (import "qjs" "qjs_set_interrupt_handler" (func $qjs_set_interrupt_handler (param i32)))
  (import "qjs" "qjs_eval_bytecode" (func $qjs_eval_bytecode (param i32 i32) (result i32)))
  (import "qjs" "qjs_call" (func $qjs_call (param i32 i32 i32 i32) (result i32)))
  (import "qjs" "qjs_get_global" (func $qjs_get_global (result i32)))
  (import "qjs" "qjs_get_undefined" (func $qjs_get_undefined (result i32)))
  (import "qjs" "qjs_get_prop_string" (func $qjs_get_prop_string (param i32 i32) (result i32)))
  (import "qjs" "qjs_set_prop_string" (func $qjs_set_prop_string (param i32 i32 i32) (result i32)))
  (import "qjs" "qjs_new_host_function" (func $qjs_new_host_function (param i32 i32 i32) (result i32)))
  (import "qjs" "qjs_new_number" (func $qjs_new_number (param f64) (result i32)))
  (import "qjs" "qjs_new_string" (func $qjs_new_string (param i32 i32) (result i32)))
  (import "qjs" "qjs_new_uint8_array" (func $qjs_new_uint8_array (param i32 i32) (result i32)))
  (import "qjs" "qjs_get_float64" (func $qjs_get_float64 (param i32) (result f64)))
  (import "qjs" "qjs_get_array_buffer" (func $qjs_get_array_buffer (param i32 i32) (result i32)))
  (import "qjs" "qjs_get_string_len" (func $qjs_get_string_len (param i32 i32) (result i32)))
  (import "qjs" "qjs_free_cstring" (func $qjs_free_cstring (param i32)))
  (import "qjs" "qjs_free_value" (func $qjs_free_value (param i32)))
  (import "qjs" "qjs_is_exception" (func $qjs_is_exception (param i32) (result i32)))
  (import "qjs" "qjs_get_exception" (func $qjs_get_exception (result i32)))
  (import "qjs" "wasm_malloc" (func $malloc (param i32) (result i32)))
  (import "qjs" "wasm_free" (func $free (param i32)))
  (import "qjs" "strlen" (func $strlen (param i32) (result i32)))
  ;; --- WASI ---
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
${
  hostCalls
    ? `  ;; --- Kubewarden host capabilities (never called during initialisation: Wizer links it as a trap) ---
  (import "${HOST_CALL_IMPORT.module}" "${HOST_CALL_IMPORT.name}" (func $kw_host_call (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
`
    : ""
}
  (global $initialized (mut i32) (i32.const 0))
  (global $strings (mut i32) (i32.const 0))
  (global $scratch (mut i32) (i32.const 0))   ;; 32 bytes: iovec, counters, out-lengths
  (global $reseed_fn (mut i32) (i32.const 0))
  (global $main_fn (mut i32) (i32.const 0))
  (global $bytecode (mut i32) (i32.const 0))
  (global $bytecode_len (mut i32) (i32.const 0))

  (data $strings_seg "${watBytes(stringBytes)}")
  (data $prelude_seg "${watBytes(prelude)}")
  (data $bundle_seg "${watBytes(bundle)}")

  ;; ---------------------------------------------------------------------------
  ;; stdin, read natively once (exact size for JS, and the bytes the pre-check scans)
  (global $stdin_buf (mut i32) (i32.const 0))
  (global $stdin_len (mut i32) (i32.const 0))
  (global $stdin_pos (mut i32) (i32.const 0))
  (global $stdin_whole (mut i32) (i32.const 0))   ;; 1 when the read reached end of file
  ;; The work budget (see src/kubewarden/work-budget.ts): a validate whose JS makes
  ;; QuickJS poll for interrupts more than $wb_polls times is interrupted and
  ;; answered with the declared answer. Counting polls, not time, keeps every
  ;; answer deterministic (the same on every engine, machine and load).
  (global $wb_polls (mut i32) (i32.const 0))      ;; polls left; the budget as declared
  (global $wb_answer (mut i32) (i32.const 0))     ;; 0 = no budget declared
  (global $wb_answer_len (mut i32) (i32.const 0))
  (global $wb_active (mut i32) (i32.const 0))
  (global $wb_hard_numbers (mut i32) (i32.const 0)) ;; costly numbers allowed before JSON.parse (0 = no limit)
  (global $wb_hit (mut i32) (i32.const 0))
  (global $stdout_bytes (mut i32) (i32.const 0))  ;; what the policy wrote on stdout
  (global $pc (mut i32) (i32.const 0))            ;; the native pre-check table; 0 = none
  (global $pc_frames (mut i32) (i32.const 0))
  (global $pc_dfa (mut i32) (i32.const 0))          ;; addresses in the table, set once at install
  (global $pc_accept (mut i32) (i32.const 0))
  (global $pc_transparent (mut i32) (i32.const 0))
  (global $pc_key_escaped (mut i32) (i32.const 0))
  ;; Triggers count only once a member whose rule arms them is present (header word 15
  ;; says whether they count from the start): a trigger seen before that taints the
  ;; scan, and an arming key after a taint makes it count, as does a trigger after arming.
  (global $pc_armed (mut i32) (i32.const 0))
  (global $pc_tainted (mut i32) (i32.const 0))
  ;; A trigger counted (armed): the request goes to JS, but the scan reads on, so
  ;; that JS can still learn that every rule held (see $pc_rules_held).
  (global $pc_triggered (mut i32) (i32.const 0))
  ;; This request's scan found every rule satisfied and sent it to JS only for
  ;; trigger text: what JS may rely on (precheckVerdict(), the "v" host function).
  (global $pc_rules_held (mut i32) (i32.const 0))
  ;; Named references (rule roles, see native-precheck.ts): inside one scope object
  ;; (an element of a scope-list array), the names its name list declares and the
  ;; references made below it, as (address, length) pairs of raw string bytes.
  (global $pc_refs (mut i32) (i32.const 0))       ;; ${MAX_SCOPE_NAMES} names, then ${MAX_SCOPE_NAMES} references, 8 bytes each
  (global $pc_scope (mut i32) (i32.const 0))      ;; depth of the scope object being scanned; 0 = none
  (global $pc_names (mut i32) (i32.const 0))
  (global $pc_nrefs (mut i32) (i32.const 0))
  (global $pc_names_seen (mut i32) (i32.const 0)) ;; the scope's name list key was seen (twice: fall back)

  ;; Read stdin into one malloc'd buffer, doubling from 64 KiB up to $cap bytes.
  ;; Whatever is not read here (past $cap, or after a host call appends to stdin)
  ;; the JS side still reads from the file descriptor: see $host_rw.
  (func $read_stdin (param $cap i32)
    (local $buf i32) (local $size i32) (local $len i32) (local $n i32) (local $new i32)
    (local.set $size (i32.const 65536))
    (local.set $buf (call $malloc (local.get $size)))
    (if (i32.eqz (local.get $buf)) (then (return)))
    (block $done
      (loop $more
        (if (i32.eq (local.get $len) (local.get $size))
          (then
            (br_if $done (i32.ge_u (local.get $size) (local.get $cap)))
            (local.set $new (call $malloc (i32.shl (local.get $size) (i32.const 1))))
            (br_if $done (i32.eqz (local.get $new)))
            (memory.copy (local.get $new) (local.get $buf) (local.get $len))
            (call $free (local.get $buf))
            (local.set $buf (local.get $new))
            (local.set $size (i32.shl (local.get $size) (i32.const 1)))))
        (i32.store (global.get $scratch) (i32.add (local.get $buf) (local.get $len)))
        (i32.store offset=4 (global.get $scratch) (i32.sub (local.get $size) (local.get $len)))
        (br_if $done (call $fd_read (i32.const 0) (global.get $scratch) (i32.const 1) (i32.add (global.get $scratch) (i32.const 8))))
        (local.set $n (i32.load offset=8 (global.get $scratch)))
        (if (i32.eqz (local.get $n))
          (then
            (global.set $stdin_whole (i32.const 1))
            (br $done)))
        (local.set $len (i32.add (local.get $len) (local.get $n)))
        (br $more)))
    (global.set $stdin_buf (local.get $buf))
    (global.set $stdin_len (local.get $len))
    (global.set $stdin_pos (i32.const 0)))

  ;; Does argv[1] equal the NUL-terminated string at $want?
  (func $argv1_is (param $want i32) (result i32)
    (local $argc i32) (local $vec i32) (local $buf i32) (local $s i32) (local $r i32) (local $i i32) (local $c i32)
    (drop (call $args_sizes_get (global.get $scratch) (i32.add (global.get $scratch) (i32.const 4))))
    (local.set $argc (i32.load (global.get $scratch)))
    (if (i32.lt_u (local.get $argc) (i32.const 2)) (then (return (i32.const 0))))
    (local.set $vec (call $malloc (i32.shl (i32.add (local.get $argc) (i32.const 1)) (i32.const 2))))
    (local.set $buf (call $malloc (i32.add (i32.load offset=4 (global.get $scratch)) (i32.const 1))))
    (drop (call $args_get (local.get $vec) (local.get $buf)))
    (local.set $s (i32.load offset=4 (local.get $vec)))
    (local.set $r (i32.const 1))
    (block $done
      (loop $next
        (local.set $c (i32.load8_u (i32.add (local.get $want) (local.get $i))))
        (if (i32.ne (local.get $c) (i32.load8_u (i32.add (local.get $s) (local.get $i))))
          (then (local.set $r (i32.const 0)) (br $done)))
        (br_if $done (i32.eqz (local.get $c)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (call $free (local.get $vec))
    (call $free (local.get $buf))
    (local.get $r))

  ;; Header word $i of the pre-check table.
  (func $pc_word (param $i i32) (result i32)
    (i32.load (i32.add (global.get $pc) (i32.shl (local.get $i) (i32.const 2)))))

  (func $pc_is_ws (param $c i32) (result i32)
    (i32.or (i32.or (i32.eq (local.get $c) (i32.const 32)) (i32.eq (local.get $c) (i32.const 10)))
            (i32.or (i32.eq (local.get $c) (i32.const 13)) (i32.eq (local.get $c) (i32.const 9)))))

  (func $pc_skip_ws (param $p i32) (param $end i32) (result i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        ;; most bytes here are not whitespace, and none above the space is
        (br_if $done (i32.gt_u (i32.load8_u (local.get $p)) (i32.const 32)))
        (br_if $done (i32.eqz (call $pc_is_ws (i32.load8_u (local.get $p)))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next)))
    (local.get $p))

  (func $pc_is_hex (param $c i32) (result i32)
    (i32.or (i32.lt_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 10))
            (i32.lt_u (i32.sub (i32.or (local.get $c) (i32.const 32)) (i32.const 97)) (i32.const 6))))

  ;; Continuation bytes: $n bytes at $p, the first within [$lo, $hi], the others within [0x80, 0xBF].
  (func $pc_utf8_tail (param $p i32) (param $end i32) (param $n i32) (param $lo i32) (param $hi i32) (result i32)
    (local $c i32) (local $i i32)
    (if (i32.gt_u (i32.add (local.get $p) (local.get $n)) (local.get $end)) (then (return (i32.const 0))))
    (local.set $c (i32.load8_u (local.get $p)))
    (if (i32.or (i32.lt_u (local.get $c) (local.get $lo)) (i32.gt_u (local.get $c) (local.get $hi))) (then (return (i32.const 0))))
    (local.set $i (i32.const 1))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (if (i32.ne (i32.and (i32.load8_u (i32.add (local.get $p) (local.get $i))) (i32.const 0xc0)) (i32.const 0x80))
          (then (return (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.const 1))

  ;; A JSON string body starting after its opening quote. Returns the position after
  ;; the closing quote, or 0 when the string is not well-formed; trigger text in it,
  ;; when $scan is set, goes to $pc_trigger. Sets $pc_key_escaped: 1 for simple
  ;; escapes, 2 for \\u escapes.
  ;; A trigger in a scanned string: it counts when triggers are armed (an arming key
  ;; seen later makes it count too), and it taints the scan either way: the caller
  ;; stops scanning this string, later strings are read plainly, and the rules are
  ;; still checked to the end.
  (func $pc_trigger
    (if (global.get $pc_armed) (then (global.set $pc_triggered (i32.const 1))))
    (global.set $pc_tainted (i32.const 1)))

  (func $pc_string (param $p i32) (param $end i32) (param $scan i32) (result i32)
    (local $c i32) (local $st i32) (local $digits i32) (local $colons i32) (local $n i32) (local $lo i32) (local $hi i32)
    (local $dfa i32) (local $accept i32) (local $transparent i32)
    (local $w i64) (local $q i64) (local $x i64)
    (global.set $pc_key_escaped (i32.const 0))
    (local.set $dfa (global.get $pc_dfa))
    (local.set $accept (global.get $pc_accept))
    (local.set $transparent (global.get $pc_transparent))
    (loop $next
      ;; Where no trigger is scanned, eight bytes at a time while none of them is a
      ;; quote, a backslash, a control character or non-ASCII (SWAR tests), then
      ;; straight to the first byte that is: the lowest flagged byte is always a true
      ;; one (a false flag needs a borrow from a true one below it).
      (if (i32.eqz (local.get $scan))
        (then
          (block $special
            (loop $eight
              (br_if $special (i32.gt_u (i32.add (local.get $p) (i32.const 8)) (local.get $end)))
              (local.set $w (i64.load align=1 (local.get $p)))
              (local.set $q
                (i64.and (i64.const 0x8080808080808080)
                  (i64.or
                    ;; a byte below 0x20 (it borrows) or from 0x80 on
                    (i64.or (i64.sub (local.get $w) (i64.const 0x2020202020202020)) (local.get $w))
                    (i64.or
                      ;; a byte equal to '"' or to the backslash: a zero byte after the xor
                      (i64.and (i64.sub (local.tee $x (i64.xor (local.get $w) (i64.const 0x2222222222222222))) (i64.const 0x0101010101010101))
                               (i64.xor (local.get $x) (i64.const -1)))
                      (i64.and (i64.sub (local.tee $x (i64.xor (local.get $w) (i64.const 0x5c5c5c5c5c5c5c5c))) (i64.const 0x0101010101010101))
                               (i64.xor (local.get $x) (i64.const -1)))))))
              (if (i64.ne (local.get $q) (i64.const 0))
                (then
                  (local.set $p (i32.add (local.get $p) (i32.wrap_i64 (i64.shr_u (i64.ctz (local.get $q)) (i64.const 3)))))
                  (br $special)))
              (local.set $p (i32.add (local.get $p) (i32.const 8)))
              (br $eight)))))
      (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (i32.const 0))))
      (local.set $c (i32.load8_u (local.get $p)))
      (if (i32.eq (local.get $c) (i32.const 34)) (then (return (i32.add (local.get $p) (i32.const 1)))))
      (if (i32.lt_u (local.get $c) (i32.const 32)) (then (return (i32.const 0))))
      (if (i32.eq (local.get $c) (i32.const 92))
        (then
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (i32.const 0))))
          (local.set $c (i32.load8_u (local.get $p)))
          (if (i32.eq (local.get $c) (i32.const 117)) ;; \\uXXXX
            (then
              ;; an escape in a scanned string could spell a trigger: count it as one
              (if (local.get $scan)
                (then
                  (call $pc_trigger)
                  (local.set $scan (i32.const 0))))
              (if (i32.gt_u (i32.add (local.get $p) (i32.const 5)) (local.get $end)) (then (return (i32.const 0))))
              (if (i32.eqz (i32.and (i32.and (call $pc_is_hex (i32.load8_u offset=1 (local.get $p))) (call $pc_is_hex (i32.load8_u offset=2 (local.get $p))))
                                    (i32.and (call $pc_is_hex (i32.load8_u offset=3 (local.get $p))) (call $pc_is_hex (i32.load8_u offset=4 (local.get $p))))))
                (then (return (i32.const 0))))
              (global.set $pc_key_escaped (i32.const 2))
              (local.set $p (i32.add (local.get $p) (i32.const 5)))
              (br $next)))
          ;; " \ / b f n r t: decoded to characters no trigger contains, so transparent
          (if (i32.eqz
                (i32.or (i32.or (i32.or (i32.eq (local.get $c) (i32.const 34)) (i32.eq (local.get $c) (i32.const 92)))
                                (i32.or (i32.eq (local.get $c) (i32.const 47)) (i32.eq (local.get $c) (i32.const 98))))
                        (i32.or (i32.or (i32.eq (local.get $c) (i32.const 102)) (i32.eq (local.get $c) (i32.const 110)))
                                (i32.or (i32.eq (local.get $c) (i32.const 114)) (i32.eq (local.get $c) (i32.const 116))))))
            (then (return (i32.const 0))))
          (if (i32.eqz (global.get $pc_key_escaped)) (then (global.set $pc_key_escaped (i32.const 1))))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br $next)))
      (if (i32.ge_u (local.get $c) (i32.const 128))
        (then
          ;; UTF-8 as RFC 3629 allows it: no overlongs, no surrogates, nothing past U+10FFFF.
          (local.set $n (i32.const 0))
          (local.set $lo (i32.const 0x80))
          (local.set $hi (i32.const 0xbf))
          (if (i32.and (i32.ge_u (local.get $c) (i32.const 0xc2)) (i32.le_u (local.get $c) (i32.const 0xdf))) (then (local.set $n (i32.const 1))))
          (if (i32.and (i32.ge_u (local.get $c) (i32.const 0xe0)) (i32.le_u (local.get $c) (i32.const 0xef))) (then (local.set $n (i32.const 2))))
          (if (i32.and (i32.ge_u (local.get $c) (i32.const 0xf0)) (i32.le_u (local.get $c) (i32.const 0xf4))) (then (local.set $n (i32.const 3))))
          (if (i32.eq (local.get $c) (i32.const 0xe0)) (then (local.set $lo (i32.const 0xa0))))
          (if (i32.eq (local.get $c) (i32.const 0xed)) (then (local.set $hi (i32.const 0x9f))))
          (if (i32.eq (local.get $c) (i32.const 0xf0)) (then (local.set $lo (i32.const 0x90))))
          (if (i32.eq (local.get $c) (i32.const 0xf4)) (then (local.set $hi (i32.const 0x8f))))
          (if (i32.eqz (local.get $n)) (then (return (i32.const 0))))
          (if (i32.eqz (call $pc_utf8_tail (i32.add (local.get $p) (i32.const 1)) (local.get $end) (local.get $n) (local.get $lo) (local.get $hi)))
            (then (return (i32.const 0))))
          (local.set $p (i32.add (local.get $p) (i32.add (local.get $n) (i32.const 1))))
          (br $next)))
      (if (local.get $scan)
        (then
          (if (i32.eqz (i32.load8_u (i32.add (local.get $transparent) (local.get $c))))
            (then
              (if (i32.lt_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 10))
                (then
                  (local.set $digits (i32.add (local.get $digits) (i32.const 1)))
                  (if (i32.gt_u (local.get $digits) (call $pc_word (i32.const 4))) (then (local.set $st (i32.const -1)))))
                (else (local.set $digits (i32.const 0))))
              (if (i32.eq (local.get $c) (i32.const 58))
                (then
                  (local.set $colons (i32.add (local.get $colons) (i32.const 1)))
                  (if (i32.gt_u (local.get $colons) (call $pc_word (i32.const 5))) (then (local.set $st (i32.const -1))))))
              (if (i32.ge_s (local.get $st) (i32.const 0))
                (then
                  (local.set $st (i32.load8_u (i32.add (local.get $dfa) (i32.add (i32.shl (local.get $st) (i32.const 8)) (local.get $c)))))
                  (if (i32.load8_u (i32.add (local.get $accept) (local.get $st))) (then (local.set $st (i32.const -1))))))
              ;; a trigger: the rest of the string is read plainly
              (if (i32.lt_s (local.get $st) (i32.const 0))
                (then
                  (call $pc_trigger)
                  (local.set $scan (i32.const 0))))))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $next))
    (i32.const 0))

  ;; The rule (its address) for a key of $len raw bytes at $key in an object at $depth, or 0.
  ;; Rules are sorted by key length; word 14 locates, per length, the first rule of that length.
  (func $pc_rule (param $key i32) (param $len i32) (param $depth i32) (result i32)
    (local $r i32) (local $n i32) (local $d i32) (local $k i32) (local $i i32)
    (if (i32.gt_u (local.get $len) (i32.const 255)) (then (return (i32.const 0))))
    (local.set $i (i32.add (i32.add (global.get $pc) (call $pc_word (i32.const 14))) (i32.shl (local.get $len) (i32.const 1))))
    (local.set $r (i32.add (i32.add (global.get $pc) (call $pc_word (i32.const 11))) (i32.shl (i32.load16_u (local.get $i)) (i32.const 4))))
    (local.set $n (i32.sub (i32.load16_u offset=2 (local.get $i)) (i32.load16_u (local.get $i))))
    (block $none
      (loop $next
        (br_if $none (i32.eqz (local.get $n)))
        (block $skip
          (br_if $skip (i32.ne (i32.load8_u offset=4 (local.get $r)) (local.get $len)))
          (local.set $d (i32.load8_u offset=5 (local.get $r)))
          (br_if $skip (i32.and (i32.ne (local.get $d) (i32.const 0)) (i32.ne (local.get $d) (local.get $depth))))
          (local.set $k (i32.add (global.get $pc) (i32.load (local.get $r))))
          (local.set $i (i32.const 0))
          (block $differ
            (loop $byte
              (if (i32.ge_u (local.get $i) (local.get $len)) (then (return (local.get $r))))
              (br_if $differ (i32.ne (i32.load8_u (i32.add (local.get $key) (local.get $i))) (i32.load8_u (i32.add (local.get $k) (local.get $i)))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $byte))))
        (local.set $r (i32.add (local.get $r) (i32.const 16)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (i32.const 0))

  ;; Does every reference recorded in the scope equal, byte for byte, a name it declares?
  ;; Raw bytes equal means decoded strings equal; references are plain (no escapes).
  (func $pc_refs_resolve (result i32)
    (local $r i32) (local $n i32) (local $ra i32) (local $rl i32) (local $na i32) (local $i i32)
    (block $done
      (loop $ref
        (br_if $done (i32.ge_u (local.get $r) (global.get $pc_nrefs)))
        (local.set $ra (i32.load (i32.add (global.get $pc_refs) (i32.shl (i32.add (local.get $r) (i32.const ${MAX_SCOPE_NAMES})) (i32.const 3)))))
        (local.set $rl (i32.load offset=4 (i32.add (global.get $pc_refs) (i32.shl (i32.add (local.get $r) (i32.const ${MAX_SCOPE_NAMES})) (i32.const 3)))))
        (local.set $n (i32.const 0))
        (block $found
          (loop $name
            (if (i32.ge_u (local.get $n) (global.get $pc_names)) (then (return (i32.const 0))))
            (block $differ
              (br_if $differ (i32.ne (i32.load offset=4 (i32.add (global.get $pc_refs) (i32.shl (local.get $n) (i32.const 3)))) (local.get $rl)))
              (local.set $na (i32.load (i32.add (global.get $pc_refs) (i32.shl (local.get $n) (i32.const 3)))))
              (local.set $i (i32.const 0))
              (loop $byte
                (br_if $found (i32.ge_u (local.get $i) (local.get $rl)))
                (br_if $differ (i32.ne (i32.load8_u (i32.add (local.get $na) (local.get $i))) (i32.load8_u (i32.add (local.get $ra) (local.get $i)))))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $byte)))
            (local.set $n (i32.add (local.get $n) (i32.const 1)))
            (br $name)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $ref)))
    (i32.const 1))

  ;; A reference: 1..63 bytes of [a-z0-9-], the first a letter (so never all digits,
  ;; which the analysis reads as a number, and never an escape).
  (func $pc_plain_ref (param $p i32) (param $len i32) (result i32)
    (local $i i32) (local $c i32)
    (if (i32.or (i32.eqz (local.get $len)) (i32.gt_u (local.get $len) (i32.const 63))) (then (return (i32.const 0))))
    (if (i32.ge_u (i32.sub (i32.load8_u (local.get $p)) (i32.const 97)) (i32.const 26)) (then (return (i32.const 0))))
    (loop $byte
      (local.set $c (i32.load8_u (i32.add (local.get $p) (local.get $i))))
      (if (i32.eqz (i32.or (i32.lt_u (i32.sub (local.get $c) (i32.const 97)) (i32.const 26))
                           (i32.or (i32.lt_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 10)) (i32.eq (local.get $c) (i32.const 45)))))
        (then (return (i32.const 0))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $byte (i32.lt_u (local.get $i) (local.get $len))))
    (i32.const 1))

  ;; Index of a rule given its address.
  (func $pc_rule_id (param $r i32) (result i32)
    (i32.div_u (i32.sub (local.get $r) (i32.add (global.get $pc) (call $pc_word (i32.const 11)))) (i32.const 16)))

  ;; The pre-check proper: 1 when the bytes are one well-formed JSON object that
  ;; satisfies every rule; $pc_triggered then says whether a scanned string held
  ;; trigger text that counts (in an input with a member arming triggers, when some
  ;; rule arms them). One pass, no
  ;; recursion (an explicit frame stack bounded by the table's maxDepth).
  ;; Type bits: 1 object, 2 empty object, 4 array, 8 string, 16 number, 32 port, 64 boolean, 128 null.
  ;; A frame (8 bytes per depth): kind (1 object, 2 array), flags (1 no keys allowed,
  ;; 2 required key seen, 4 scan elements, 8 name seen), required rule id (u16),
  ;; element types, role (1 scope list, 2 scope, 3 name list, 4 name holder, 5 no references), element limit (u16).
  (func $pc_scan (param $p i32) (param $end i32) (result i32)
    (local $state i32) (local $depth i32) (local $frame i32) (local $c i32)
    (local $mask i32) (local $req i32) (local $scan i32) (local $elem i32) (local $rule i32)
    (local $key i32) (local $keylen i32) (local $max i32) (local $limit i32)
    (local $neg i32) (local $zero i32) (local $digits i32) (local $val i32) (local $port i32)
    (local $role i32) (local $record i32) (local $rl i32) (local $rec i32) (local $str i32)
    (global.set $pc_scope (i32.const 0))
    (global.set $pc_armed (call $pc_word (i32.const 15)))
    (global.set $pc_tainted (i32.const 0))
    (global.set $pc_triggered (i32.const 0))
    (i64.store (global.get $pc_frames) (i64.const 0))
    (local.set $max (call $pc_word (i32.const 2)))
    (local.set $mask (i32.const 1))
    (local.set $req (call $pc_word (i32.const 12)))
    (local.set $elem (i32.const 255))
    (block $fail
      (loop $step
        (block $s_key
          (block $s_after
            (block $s_value
              (br_table $s_value $s_after $s_key (local.get $state)))
            ;; ---- a value, whose allowed types are $mask ----
            (local.set $p (call $pc_skip_ws (local.get $p) (local.get $end)))
            (br_if $fail (i32.ge_u (local.get $p) (local.get $end)))
            (local.set $c (i32.load8_u (local.get $p)))
            (local.set $state (i32.const 1))
            ;; what the member's key asked of this value, cleared for the values after it
            (local.set $rl (local.get $role))
            (local.set $rec (local.get $record))
            (local.set $role (i32.const 0))
            (local.set $record (i32.const 0))
            (if (i32.eq (local.get $c) (i32.const 123)) ;; {
              (then
                (br_if $fail (i32.eqz (i32.and (local.get $mask) (i32.const 3))))
                ;; An element of a scope list is a scope; of the scope's name list, a name holder;
                ;; the value of a no-references key keeps that role.
                (local.set $frame (i32.add (global.get $pc_frames) (i32.shl (local.get $depth) (i32.const 3))))
                (if (i32.eq (i32.load8_u (local.get $frame)) (i32.const 2))
                  (then
                    ;; array roles 1 and 3 make their elements 2 and 4; others none
                    (local.set $rl (i32.load8_u offset=5 (local.get $frame)))
                    (local.set $rl (select (i32.add (local.get $rl) (i32.const 1)) (i32.const 0)
                                           (i32.or (i32.eq (local.get $rl) (i32.const 1)) (i32.eq (local.get $rl) (i32.const 3))))))
                  (else
                    (if (i32.ne (local.get $rl) (i32.const 5)) (then (local.set $rl (i32.const 0))))))
                (local.set $depth (i32.add (local.get $depth) (i32.const 1)))
                (br_if $fail (i32.gt_u (local.get $depth) (local.get $max)))
                (if (i32.eq (local.get $rl) (i32.const 2))
                  (then
                    ;; scopes do not nest
                    (br_if $fail (global.get $pc_scope))
                    (global.set $pc_scope (local.get $depth))
                    (global.set $pc_names (i32.const 0))
                    (global.set $pc_nrefs (i32.const 0))
                    (global.set $pc_names_seen (i32.const 0))))
                (local.set $frame (i32.add (global.get $pc_frames) (i32.shl (local.get $depth) (i32.const 3))))
                (i32.store8 (local.get $frame) (i32.const 1))
                (i32.store8 offset=1 (local.get $frame) (i32.eqz (i32.and (local.get $mask) (i32.const 1))))
                (i32.store16 offset=2 (local.get $frame) (local.get $req))
                (i32.store8 offset=5 (local.get $frame) (local.get $rl))
                (local.set $p (call $pc_skip_ws (i32.add (local.get $p) (i32.const 1)) (local.get $end)))
                (if (i32.and (i32.lt_u (local.get $p) (local.get $end)) (i32.eq (i32.load8_u (local.get $p)) (i32.const 125)))
                  (then
                    (br_if $fail (i32.ne (local.get $req) (i32.const 0xffff)))
                    (if (i32.eq (local.get $rl) (i32.const 2)) (then (global.set $pc_scope (i32.const 0))))
                    (local.set $p (i32.add (local.get $p) (i32.const 1)))
                    (local.set $depth (i32.sub (local.get $depth) (i32.const 1)))
                    (br $step)))
                (local.set $state (i32.const 2))
                (br $step)))
            (if (i32.eq (local.get $c) (i32.const 91)) ;; [
              (then
                (br_if $fail (i32.eqz (i32.and (local.get $mask) (i32.const 4))))
                (local.set $depth (i32.add (local.get $depth) (i32.const 1)))
                (br_if $fail (i32.gt_u (local.get $depth) (local.get $max)))
                (local.set $frame (i32.add (global.get $pc_frames) (i32.shl (local.get $depth) (i32.const 3))))
                (i32.store8 (local.get $frame) (i32.const 2))
                (i32.store8 offset=1 (local.get $frame) (i32.shl (local.get $scan) (i32.const 2)))
                (i32.store16 offset=2 (local.get $frame) (local.get $req))
                (i32.store8 offset=4 (local.get $frame) (local.get $elem))
                (i32.store8 offset=5 (local.get $frame) (local.get $rl))
                ;; elements still allowed (0: no limit), counted down at each ','
                (i32.store16 offset=6 (local.get $frame) (local.get $limit))
                (local.set $limit (i32.const 0))
                (local.set $p (call $pc_skip_ws (i32.add (local.get $p) (i32.const 1)) (local.get $end)))
                (if (i32.and (i32.lt_u (local.get $p) (local.get $end)) (i32.eq (i32.load8_u (local.get $p)) (i32.const 93)))
                  (then
                    (local.set $p (i32.add (local.get $p) (i32.const 1)))
                    (local.set $depth (i32.sub (local.get $depth) (i32.const 1)))
                    (br $step)))
                (local.set $mask (local.get $elem))
                (local.set $elem (i32.const 255))
                (local.set $state (i32.const 0))
                (br $step)))
            (if (i32.eq (local.get $c) (i32.const 34)) ;; "
              (then
                (br_if $fail (i32.eqz (i32.and (local.get $mask) (i32.const 8))))
                (local.set $str (i32.add (local.get $p) (i32.const 1)))
                ;; once tainted, further triggers change nothing: read the string plainly
                (local.set $p (call $pc_string (local.get $str) (local.get $end) (i32.and (local.get $scan) (i32.eqz (global.get $pc_tainted)))))
                (br_if $fail (i32.eqz (local.get $p)))
                (if (local.get $rec)
                  (then
                    (local.set $keylen (i32.sub (i32.sub (local.get $p) (local.get $str)) (i32.const 1)))
                    (if (i32.eq (local.get $rec) (i32.const 1))
                      (then
                        (br_if $fail (i32.ge_u (global.get $pc_names) (i32.const ${MAX_SCOPE_NAMES})))
                        (local.set $frame (i32.add (global.get $pc_refs) (i32.shl (global.get $pc_names) (i32.const 3))))
                        (global.set $pc_names (i32.add (global.get $pc_names) (i32.const 1))))
                      (else
                        ;; a reference outside any scope, where none may be, or not plain: fall back
                        (br_if $fail (i32.eq (local.get $rec) (i32.const 3)))
                        (br_if $fail (i32.eqz (global.get $pc_scope)))
                        (br_if $fail (i32.eqz (call $pc_plain_ref (local.get $str) (local.get $keylen))))
                        (br_if $fail (i32.ge_u (global.get $pc_nrefs) (i32.const ${MAX_SCOPE_NAMES})))
                        (local.set $frame (i32.add (global.get $pc_refs) (i32.shl (i32.add (global.get $pc_nrefs) (i32.const ${MAX_SCOPE_NAMES})) (i32.const 3))))
                        (global.set $pc_nrefs (i32.add (global.get $pc_nrefs) (i32.const 1)))))
                    (i32.store (local.get $frame) (local.get $str))
                    (i32.store offset=4 (local.get $frame) (local.get $keylen))))
                (br $step)))
            (if (i32.or (i32.eq (local.get $c) (i32.const 45)) (i32.lt_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 10)))
              (then
                (br_if $fail (i32.eqz (i32.and (local.get $mask) (i32.const 48))))
                ;; -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, noting whether it is a plain port 1..65535
                (local.set $neg (i32.eq (local.get $c) (i32.const 45)))
                (if (local.get $neg) (then (local.set $p (i32.add (local.get $p) (i32.const 1)))))
                (br_if $fail (i32.ge_u (local.get $p) (local.get $end)))
                (local.set $c (i32.load8_u (local.get $p)))
                (br_if $fail (i32.ge_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 10)))
                (local.set $zero (i32.eq (local.get $c) (i32.const 48)))
                (local.set $digits (i32.const 0))
                (local.set $val (i32.const 0))
                (if (local.get $zero)
                  (then (local.set $p (i32.add (local.get $p) (i32.const 1))))
                  (else
                    (block $int_done
                      (loop $int
                        (br_if $int_done (i32.ge_u (local.get $p) (local.get $end)))
                        (local.set $c (i32.load8_u (local.get $p)))
                        (br_if $int_done (i32.ge_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 10)))
                        (if (i32.lt_u (local.get $digits) (i32.const 6))
                          (then (local.set $val (i32.add (i32.mul (local.get $val) (i32.const 10)) (i32.sub (local.get $c) (i32.const 48))))))
                        (local.set $digits (i32.add (local.get $digits) (i32.const 1)))
                        (local.set $p (i32.add (local.get $p) (i32.const 1)))
                        (br $int)))))
                (local.set $port (i32.and (i32.and (i32.eqz (local.get $neg)) (i32.eqz (local.get $zero)))
                                          (i32.and (i32.le_u (local.get $digits) (i32.const 5)) (i32.le_u (local.get $val) (i32.const 65535)))))
                (if (i32.and (i32.lt_u (local.get $p) (local.get $end)) (i32.eq (i32.load8_u (local.get $p)) (i32.const 46)))
                  (then
                    (local.set $port (i32.const 0))
                    (local.set $p (i32.add (local.get $p) (i32.const 1)))
                    (local.set $digits (i32.const 0))
                    (block $frac_done
                      (loop $frac
                        (br_if $frac_done (i32.ge_u (local.get $p) (local.get $end)))
                        (br_if $frac_done (i32.ge_u (i32.sub (i32.load8_u (local.get $p)) (i32.const 48)) (i32.const 10)))
                        (local.set $digits (i32.add (local.get $digits) (i32.const 1)))
                        (local.set $p (i32.add (local.get $p) (i32.const 1)))
                        (br $frac)))
                    (br_if $fail (i32.eqz (local.get $digits)))))
                (if (i32.and (i32.lt_u (local.get $p) (local.get $end)) (i32.eq (i32.or (i32.load8_u (local.get $p)) (i32.const 32)) (i32.const 101)))
                  (then
                    (local.set $port (i32.const 0))
                    (local.set $p (i32.add (local.get $p) (i32.const 1)))
                    (if (i32.lt_u (local.get $p) (local.get $end))
                      (then
                        (local.set $c (i32.load8_u (local.get $p)))
                        (if (i32.or (i32.eq (local.get $c) (i32.const 43)) (i32.eq (local.get $c) (i32.const 45)))
                          (then (local.set $p (i32.add (local.get $p) (i32.const 1)))))))
                    (local.set $digits (i32.const 0))
                    (block $exp_done
                      (loop $exp
                        (br_if $exp_done (i32.ge_u (local.get $p) (local.get $end)))
                        (br_if $exp_done (i32.ge_u (i32.sub (i32.load8_u (local.get $p)) (i32.const 48)) (i32.const 10)))
                        (local.set $digits (i32.add (local.get $digits) (i32.const 1)))
                        (local.set $p (i32.add (local.get $p) (i32.const 1)))
                        (br $exp)))
                    (br_if $fail (i32.eqz (local.get $digits)))))
                ;; A port-only position needs a plain port number.
                (br_if $fail (i32.and (i32.eqz (i32.and (local.get $mask) (i32.const 16))) (i32.eqz (i32.and (local.get $port) (i32.ge_u (local.get $val) (i32.const 1))))))
                (br $step)))
            (if (i32.eq (local.get $c) (i32.const 116)) ;; true
              (then
                (br_if $fail (i32.eqz (i32.and (local.get $mask) (i32.const 64))))
                (br_if $fail (i32.gt_u (i32.add (local.get $p) (i32.const 4)) (local.get $end)))
                (br_if $fail (i32.ne (i32.load (local.get $p)) (i32.const 0x65757274)))
                (local.set $p (i32.add (local.get $p) (i32.const 4)))
                (br $step)))
            (if (i32.eq (local.get $c) (i32.const 102)) ;; false
              (then
                (br_if $fail (i32.eqz (i32.and (local.get $mask) (i32.const 64))))
                (br_if $fail (i32.gt_u (i32.add (local.get $p) (i32.const 5)) (local.get $end)))
                (br_if $fail (i32.ne (i32.load offset=1 (local.get $p)) (i32.const 0x65736c61)))
                (local.set $p (i32.add (local.get $p) (i32.const 5)))
                (br $step)))
            (if (i32.eq (local.get $c) (i32.const 110)) ;; null
              (then
                (br_if $fail (i32.eqz (i32.and (local.get $mask) (i32.const 128))))
                (br_if $fail (i32.gt_u (i32.add (local.get $p) (i32.const 4)) (local.get $end)))
                (br_if $fail (i32.ne (i32.load (local.get $p)) (i32.const 0x6c6c756e)))
                (local.set $p (i32.add (local.get $p) (i32.const 4)))
                (br $step)))
            (br $fail))
          ;; ---- after a value: a separator, the end of its container, or the end of input ----
          (local.set $p (call $pc_skip_ws (local.get $p) (local.get $end)))
          (if (i32.eqz (local.get $depth)) (then (return (i32.eq (local.get $p) (local.get $end)))))
          (br_if $fail (i32.ge_u (local.get $p) (local.get $end)))
          (local.set $c (i32.load8_u (local.get $p)))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (local.set $frame (i32.add (global.get $pc_frames) (i32.shl (local.get $depth) (i32.const 3))))
          (if (i32.eq (i32.load8_u (local.get $frame)) (i32.const 1))
            (then
              (if (i32.eq (local.get $c) (i32.const 44)) (then (local.set $state (i32.const 2)) (br $step)))
              (br_if $fail (i32.ne (local.get $c) (i32.const 125)))
              ;; a required key never seen
              (br_if $fail (i32.and (i32.ne (i32.load16_u offset=2 (local.get $frame)) (i32.const 0xffff))
                                    (i32.eqz (i32.and (i32.load8_u offset=1 (local.get $frame)) (i32.const 2)))))
              ;; the end of a scope: every reference made in it names one of its names
              (if (i32.eq (i32.load8_u offset=5 (local.get $frame)) (i32.const 2))
                (then
                  (br_if $fail (i32.eqz (call $pc_refs_resolve)))
                  (global.set $pc_scope (i32.const 0))))
              (local.set $depth (i32.sub (local.get $depth) (i32.const 1)))
              (br $step)))
          (if (i32.eq (local.get $c) (i32.const 44))
            (then
              ;; an array with an element limit: one more element
              (local.set $limit (i32.load16_u offset=6 (local.get $frame)))
              (if (local.get $limit)
                (then
                  (br_if $fail (i32.eq (local.get $limit) (i32.const 1)))
                  (i32.store16 offset=6 (local.get $frame) (i32.sub (local.get $limit) (i32.const 1)))))
              (local.set $limit (i32.const 0))
              (local.set $mask (i32.load8_u offset=4 (local.get $frame)))
              (local.set $req (i32.load16_u offset=2 (local.get $frame)))
              (local.set $scan (i32.shr_u (i32.and (i32.load8_u offset=1 (local.get $frame)) (i32.const 4)) (i32.const 2)))
              (local.set $elem (i32.const 255))
              (local.set $state (i32.const 0))
              (br $step)))
          (br_if $fail (i32.ne (local.get $c) (i32.const 93)))
          (local.set $depth (i32.sub (local.get $depth) (i32.const 1)))
          (br $step))
        ;; ---- a member's key, then ':' ----
        (local.set $p (call $pc_skip_ws (local.get $p) (local.get $end)))
        (br_if $fail (i32.ge_u (local.get $p) (local.get $end)))
        (br_if $fail (i32.ne (i32.load8_u (local.get $p)) (i32.const 34)))
        (local.set $key (i32.add (local.get $p) (i32.const 1)))
        (local.set $p (call $pc_string (local.get $key) (local.get $end) (i32.const 0)))
        (br_if $fail (i32.eqz (local.get $p)))
        ;; An escaped key (\\u, or even \\/ in a key that has a slash) may spell a rule's key,
        ;; which JSON.parse reads decoded: give up on any escape rather than decode it here.
        (br_if $fail (global.get $pc_key_escaped))
        (local.set $keylen (i32.sub (i32.sub (local.get $p) (local.get $key)) (i32.const 1)))
        (local.set $frame (i32.add (global.get $pc_frames) (i32.shl (local.get $depth) (i32.const 3))))
        (br_if $fail (i32.and (i32.load8_u offset=1 (local.get $frame)) (i32.const 1)))
        (local.set $rule (call $pc_rule (local.get $key) (local.get $keylen) (local.get $depth)))
        (if (local.get $rule)
          (then
            (if (i32.eq (call $pc_rule_id (local.get $rule)) (i32.load16_u offset=2 (local.get $frame)))
              (then (i32.store8 offset=1 (local.get $frame) (i32.or (i32.load8_u offset=1 (local.get $frame)) (i32.const 2)))))
            (local.set $mask (i32.load8_u offset=7 (local.get $rule)))
            (local.set $elem (i32.load8_u offset=8 (local.get $rule)))
            (if (i32.eqz (local.get $elem)) (then (local.set $elem (i32.const 255))))
            (local.set $req (i32.load16_u offset=10 (local.get $rule)))
            (local.set $limit (i32.load16_u offset=12 (local.get $rule)))
            (local.set $scan (i32.load8_u offset=6 (local.get $rule)))
            (if (i32.load8_u offset=14 (local.get $rule))
              (then
                (if (global.get $pc_tainted) (then (global.set $pc_triggered (i32.const 1))))
                (global.set $pc_armed (i32.const 1))))
            ;; roles: 1 scope list, 2 name list, 3 name, 4 reference, 5 no references
            (local.set $c (i32.load8_u offset=9 (local.get $rule)))
            (if (i32.eq (local.get $c) (i32.const 1)) (then (local.set $role (i32.const 1))))
            (if (i32.and (i32.eq (local.get $c) (i32.const 2)) (i32.eq (i32.load8_u offset=5 (local.get $frame)) (i32.const 2)))
              (then
                ;; a second name list in one scope: JSON.parse keeps the last, this scan would see both
                (br_if $fail (global.get $pc_names_seen))
                (global.set $pc_names_seen (i32.const 1))
                (local.set $role (i32.const 3))))
            (if (i32.and (i32.eq (local.get $c) (i32.const 3)) (i32.eq (i32.load8_u offset=5 (local.get $frame)) (i32.const 4)))
              (then
                ;; a second name in one holder: the same
                (br_if $fail (i32.and (i32.load8_u offset=1 (local.get $frame)) (i32.const 8)))
                (i32.store8 offset=1 (local.get $frame) (i32.or (i32.load8_u offset=1 (local.get $frame)) (i32.const 8)))
                (local.set $record (i32.const 1))))
            (if (i32.eq (local.get $c) (i32.const 4))
              (then
                ;; 3: a reference's key directly in a no-references object (a number is fine there, a name falls back)
                (local.set $record (select (i32.const 3) (i32.const 2) (i32.eq (i32.load8_u offset=5 (local.get $frame)) (i32.const 5))))))
            (if (i32.eq (local.get $c) (i32.const 5)) (then (local.set $role (i32.const 5)))))
          (else
            (local.set $mask (i32.const 255))
            (local.set $elem (i32.const 255))
            (local.set $req (i32.const 0xffff))
            (local.set $limit (i32.const 0))
            (local.set $scan (i32.const 0))))
        (local.set $p (call $pc_skip_ws (local.get $p) (local.get $end)))
        (br_if $fail (i32.ge_u (local.get $p) (local.get $end)))
        (br_if $fail (i32.ne (i32.load8_u (local.get $p)) (i32.const 58)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (local.set $state (i32.const 0))
        (br $step)))
    (i32.const 0))

  ;; Answer without entering JS when the pre-check proves the answer. 1 = answered.
  (func $precheck (result i32)
    (if (i32.eqz (global.get $pc)) (then (return (i32.const 0))))
    (if (i32.eqz (global.get $stdin_whole)) (then (return (i32.const 0))))
    (if (i32.gt_u (global.get $stdin_len) (call $pc_word (i32.const 3))) (then (return (i32.const 0))))
    (if (i32.eqz (call $argv1_is (i32.add (global.get $strings) (i32.const ${validateAction.offset})))) (then (return (i32.const 0))))
    (if (i32.eqz (call $pc_scan (global.get $stdin_buf) (i32.add (global.get $stdin_buf) (global.get $stdin_len)))) (then (return (i32.const 0))))
    (if (global.get $pc_triggered)
      (then
        (global.set $pc_rules_held (i32.const 1))
        (return (i32.const 0))))
    (call $write_all (i32.const 1) (i32.add (global.get $pc) (call $pc_word (i32.const 0))) (call $pc_word (i32.const 1)))
    (i32.const 1))

  ;; install(ab, off, len) → 1 when the table is installed (0 when pre-checks are built off)
  (func $host_install_precheck (param $argv i32) (result i32)
    (local $src i32) (local $len i32) (local $table i32)
    (if (i32.eqz (i32.const ${options.nativePrecheck ? 1 : 0})) (then (return (call $number (i32.const 0)))))
    (local.set $len (call $arg_i32 (local.get $argv) (i32.const 2)))
    (local.set $src (call $buffer_at (local.get $argv) (i32.const 0)))
    (if (i32.or (i32.eqz (local.get $src)) (i32.lt_s (local.get $len) (i32.const 64))) (then (return (call $number (i32.const 0)))))
    (local.set $table (call $malloc (local.get $len)))
    (memory.copy (local.get $table) (local.get $src) (local.get $len))
    (global.set $pc (local.get $table))
    (global.set $pc_frames (call $malloc (i32.shl (i32.add (call $pc_word (i32.const 2)) (i32.const 2)) (i32.const 3))))
    (global.set $pc_refs (call $malloc (i32.const ${MAX_SCOPE_NAMES * 16})))
    (global.set $pc_dfa (i32.add (local.get $table) (call $pc_word (i32.const 7))))
    (global.set $pc_accept (i32.add (local.get $table) (call $pc_word (i32.const 8))))
    (global.set $pc_transparent (i32.add (local.get $table) (call $pc_word (i32.const 9))))
    (call $number (i32.const 1)))

  ;; Number tokens outside strings with more than 15 digits or an exponent: the ones
  ;; QuickJS's JSON.parse must round with arbitrary precision. One pass, no state
  ;; beyond the current token; bytes of true/false/null never start a number.
  (func $hard_numbers (param $p i32) (param $end i32) (result i32)
    (local $c i32) (local $count i32) (local $in_num i32) (local $digits i32) (local $hard i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $c (i32.load8_u (local.get $p)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (if (i32.lt_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 10))
          (then
            (if (i32.eqz (local.get $in_num))
              (then (local.set $in_num (i32.const 1)) (local.set $digits (i32.const 0)) (local.set $hard (i32.const 0))))
            (local.set $digits (i32.add (local.get $digits) (i32.const 1)))
            (br $next)))
        (if (local.get $in_num)
          (then
            (if (i32.eq (i32.or (local.get $c) (i32.const 32)) (i32.const 101)) (then (local.set $hard (i32.const 1)) (br $next)))  ;; e E
            (if (i32.or (i32.eq (local.get $c) (i32.const 46)) (i32.or (i32.eq (local.get $c) (i32.const 43)) (i32.eq (local.get $c) (i32.const 45)))) (then (br $next)))  ;; . + -
            (if (i32.or (local.get $hard) (i32.gt_u (local.get $digits) (i32.const 15))) (then (local.set $count (i32.add (local.get $count) (i32.const 1)))))
            (local.set $in_num (i32.const 0))))
        (if (i32.eq (local.get $c) (i32.const 34))  ;; a string: skip it, escapes included
          (then
            (block $closed
              (loop $str
                (br_if $closed (i32.ge_u (local.get $p) (local.get $end)))
                (local.set $c (i32.load8_u (local.get $p)))
                (local.set $p (i32.add (local.get $p) (i32.const 1)))
                (br_if $closed (i32.eq (local.get $c) (i32.const 34)))
                (if (i32.eq (local.get $c) (i32.const 92)) (then (local.set $p (i32.add (local.get $p) (i32.const 1)))))
                (br $str)))))
        (br $next)))
    (if (i32.and (local.get $in_num) (i32.or (local.get $hard) (i32.gt_u (local.get $digits) (i32.const 15))))
      (then (local.set $count (i32.add (local.get $count) (i32.const 1)))))
    (local.get $count))

  ;; workBudget(polls, ab, off, len, hardNumbers): past that many interrupt polls in JS, a validate
  ;; is interrupted and answered with these bytes. At build time only (before the snapshot).
  (func $host_work_budget (param $argv i32) (result i32)
    (local $src i32) (local $len i32) (local $polls i32)
    (if (global.get $initialized) (then (return (call $number (i32.const 0)))))
    (local.set $polls (call $arg_i32 (local.get $argv) (i32.const 0)))
    (local.set $len (call $arg_i32 (local.get $argv) (i32.const 3)))
    (local.set $src (call $buffer_at (local.get $argv) (i32.const 1)))
    (if (i32.or (i32.or (i32.eqz (local.get $src)) (i32.le_s (local.get $len) (i32.const 0))) (i32.le_s (local.get $polls) (i32.const 0)))
      (then (return (call $number (i32.const 0)))))
    (global.set $wb_answer (call $malloc (local.get $len)))
    (memory.copy (global.get $wb_answer) (local.get $src) (local.get $len))
    (global.set $wb_answer_len (local.get $len))
    (global.set $wb_polls (local.get $polls))
    (global.set $wb_hard_numbers (call $arg_i32 (local.get $argv) (i32.const 4)))
    (call $number (i32.const 1)))

  ;; stdinLength() → bytes of stdin read natively and not yet handed to JS, or -1
  ;; when the native read did not reach the end (JS then reads the rest itself).
  ;; precheckVerdict() → 1 when this request's pre-check held every rule and fell
  ;; back only for trigger text, else 0.
  (func $host_precheck_verdict (result i32)
    (call $number (global.get $pc_rules_held)))

  (func $host_stdin_length (result i32)
    (if (i32.eqz (global.get $stdin_whole)) (then (return (call $number (i32.const -1)))))
    (call $number (i32.sub (global.get $stdin_len) (global.get $stdin_pos))))

  ;; Write len bytes at ptr to fd, ignoring short writes' errors (best effort diagnostics).
  (func $write_all (param $fd i32) (param $ptr i32) (param $len i32)
    (local $n i32)
    (block $done
      (loop $more
        (br_if $done (i32.le_s (local.get $len) (i32.const 0)))
        (i32.store (global.get $scratch) (local.get $ptr))
        (i32.store offset=4 (global.get $scratch) (local.get $len))
        (br_if $done (call $fd_write (local.get $fd) (global.get $scratch) (i32.const 1) (i32.add (global.get $scratch) (i32.const 8))))
        (local.set $n (i32.load offset=8 (global.get $scratch)))
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $ptr (i32.add (local.get $ptr) (local.get $n)))
        (local.set $len (i32.sub (local.get $len) (local.get $n)))
        (br $more))))

  ;; Print a prefix and the pending JS exception to stderr.
  (func $report_exception (param $prefix i32)
    (local $exc i32) (local $str i32)
    (call $write_all (i32.const 2) (i32.add (global.get $strings) (local.get $prefix))
      (call $strlen (i32.add (global.get $strings) (local.get $prefix))))
    (local.set $exc (call $qjs_get_exception))
    (local.set $str (call $qjs_get_string_len (local.get $exc) (i32.add (global.get $scratch) (i32.const 12))))
    (if (local.get $str)
      (then
        (call $write_all (i32.const 2) (local.get $str) (i32.load offset=12 (global.get $scratch)))
        (call $qjs_free_cstring (local.get $str))))
    (i32.store8 (global.get $scratch) (i32.const 10))
    (call $write_all (i32.const 2) (global.get $scratch) (i32.const 1))
    (call $qjs_free_value (local.get $exc)))

  ;; Copy a passive segment into a fresh buffer and evaluate (or compile) it.

  (func $fail_init
    (call $report_exception (i32.const ${initFailed.offset}))
    (unreachable))

  (func $get_global_fn (param $name i32) (result i32)
    (local $g i32) (local $fn i32)
    (local.set $g (call $qjs_get_global))
    (local.set $fn (call $qjs_get_prop_string (local.get $g) (i32.add (global.get $strings) (local.get $name))))
    (call $qjs_free_value (local.get $g))
    (local.get $fn))

  (func $initialize (export "wizer.initialize")
    (local $global i32) (local $fn i32) (local $buf i32) (local $r i32)
    (if (global.get $initialized) (then (return)))
    (call $qjs_initialize)
    (if (call $qjs_init2 (i32.const ${options.intrinsics | 0})) (then (unreachable)))
    (call $qjs_set_max_stack_size (i32.const ${options.maxStackBytes}))
    (call $qjs_set_memory_limit (i32.const ${options.memoryLimitBytes}))
    ;; QuickJS asks host_interrupt every few thousand branches; it says stop only
    ;; past a declared work budget, so until one is declared and active this is free.
    (call $qjs_set_interrupt_handler (i32.const 1))
    (global.set $scratch (call $malloc (i32.const 32)))
    (global.set $strings (call $malloc (i32.const ${stringBytes.length})))
    (memory.init $strings_seg (global.get $strings) (i32.const 0) (i32.const ${stringBytes.length}))
    (local.set $global (call $qjs_get_global))
${registerHostFunctions}
    (call $qjs_free_value (local.get $global))
    ;; the prelude
    (local.set $buf (call $malloc (i32.const ${prelude.length})))
    (memory.init $prelude_seg (local.get $buf) (i32.const 0) (i32.const ${prelude.length}))
    (local.set $r (call $qjs_eval_bytecode (local.get $buf) (i32.const ${prelude.length})))
    (call $free (local.get $buf))
    (if (call $qjs_is_exception (local.get $r)) (then (call $fail_init)))
    (call $qjs_free_value (local.get $r))
    ;; the policy bundle
    (local.set $buf (call $malloc (i32.const ${bundle.length})))
    (memory.init $bundle_seg (local.get $buf) (i32.const 0) (i32.const ${bundle.length}))
    (if (i32.const ${javy})
      (then
        ;; Javy semantics: the bytecode stays, and every _start runs its top level.
        (global.set $bytecode (local.get $buf))
        (global.set $bytecode_len (i32.const ${bundle.length})))
      (else
        (local.set $r (call $qjs_eval_bytecode (local.get $buf) (i32.const ${bundle.length})))
        (call $free (local.get $buf))
        (if (call $qjs_is_exception (local.get $r)) (then (call $fail_init)))
        (call $qjs_free_value (local.get $r))))
    (global.set $reseed_fn (call $get_global_fn (i32.const ${reseedName.offset})))
    (global.set $main_fn (call $get_global_fn (i32.const ${mainName.offset})))
    ;; Leave no garbage in the snapshot, and no collection due right after it.
    (call $qjs_run_gc)
    ${options.gcThresholdBytes > 0 ? `(call $qjs_set_gc_threshold (i32.const ${options.gcThresholdBytes}))` : ""}
    (global.set $initialized (i32.const 1)))

  (func $call_global (param $fn i32)
    (local $undef i32) (local $r i32)
    (local.set $undef (call $qjs_get_undefined))
    (local.set $r (call $qjs_call (local.get $fn) (local.get $undef) (i32.const 0) (i32.const 0)))
    (call $qjs_free_value (local.get $undef))
    (if (call $qjs_is_exception (local.get $r))
      (then
        ;; Interrupted past the work budget: the declared answer, unless the policy had written its own.
        (if (global.get $wb_hit)
          (then
            (if (i32.eqz (global.get $stdout_bytes))
              (then (call $write_all (i32.const 1) (global.get $wb_answer) (global.get $wb_answer_len))))
            (return)))
        (call $report_exception (i32.const ${runFailed.offset}))
        (call $proc_exit (i32.const 1))))
    (call $qjs_free_value (local.get $r)))

  (func (export "_start")
    (local $r i32)
    ;; Without a snapshot (tests, debugging) initialise now.
    (call $initialize)
    (call $read_stdin (i32.const ${NATIVE_STDIN_CAP}))
    (if (call $precheck) (then (return)))
    ;; From here JS runs: a validate has the declared work budget.
    (if (global.get $wb_answer)
      (then (global.set $wb_active (call $argv1_is (i32.add (global.get $strings) (i32.const ${validateAction.offset}))))))
    ;; JSON.parse cannot be interrupted, and a number it must round exactly (more than
    ;; 15 digits, or an exponent) costs it ~0.1 M instructions: too many of them spend
    ;; the budget before any JS runs.
    (if (i32.and (global.get $wb_active) (i32.and (global.get $stdin_whole) (i32.ne (global.get $wb_hard_numbers) (i32.const 0))))
      (then
        (if (i32.gt_u (call $hard_numbers (global.get $stdin_buf) (i32.add (global.get $stdin_buf) (global.get $stdin_len))) (global.get $wb_hard_numbers))
          (then
            (call $write_all (i32.const 1) (global.get $wb_answer) (global.get $wb_answer_len))
            (return)))))
    (call $call_global (global.get $reseed_fn))
    (if (global.get $bytecode)
      (then
        (local.set $r (call $qjs_eval_bytecode (global.get $bytecode) (global.get $bytecode_len)))
        (if (call $qjs_is_exception (local.get $r))
          (then
            (call $report_exception (i32.const ${runFailed.offset}))
            (call $proc_exit (i32.const 1))))
        (call $qjs_free_value (local.get $r))))
    (call $call_global (global.get $main_fn)))

  ;; --- host functions: (fd|value, arraybuffer, offset, length) ---
  (func $arg (param $argv i32) (param $i i32) (result i32)
    (i32.load (i32.add (local.get $argv) (i32.shl (local.get $i) (i32.const 2)))))
  (func $arg_i32 (param $argv i32) (param $i i32) (result i32)
    (i32.trunc_sat_f64_s (call $qjs_get_float64 (call $arg (local.get $argv) (local.get $i)))))
  (func $number (param $n i32) (result i32)
    (call $qjs_new_number (f64.convert_i32_s (local.get $n))))

  ;; Address of arraybuffer(argv[ab]) + argv[ab+1], or 0 when [off, off+len) is out of bounds.
  (func $buffer_at (param $argv i32) (param $ab i32) (result i32)
    (local $data i32) (local $size i32) (local $off i32) (local $len i32)
    (local.set $data (call $qjs_get_array_buffer (call $arg (local.get $argv) (local.get $ab)) (i32.add (global.get $scratch) (i32.const 20))))
    (if (i32.eqz (local.get $data)) (then (return (i32.const 0))))
    (local.set $size (i32.load offset=20 (global.get $scratch)))
    (local.set $off (call $arg_i32 (local.get $argv) (i32.add (local.get $ab) (i32.const 1))))
    (local.set $len (call $arg_i32 (local.get $argv) (i32.add (local.get $ab) (i32.const 2))))
    (if (i32.or (i32.lt_s (local.get $off) (i32.const 0)) (i32.lt_s (local.get $len) (i32.const 0))) (then (return (i32.const 0))))
    (if (i64.gt_u (i64.add (i64.extend_i32_u (local.get $off)) (i64.extend_i32_u (local.get $len))) (i64.extend_i32_u (local.get $size)))
      (then (return (i32.const 0))))
    (i32.add (local.get $data) (local.get $off)))

  ;; read(fd, ab, off, len) / write(fd, ab, off, len) → bytes, or -errno
  (func $host_rw (param $argv i32) (param $write i32) (result i32)
    (local $ptr i32) (local $err i32) (local $n i32)
    (if (i32.eqz (call $arg_i32 (local.get $argv) (i32.const 3))) (then (return (call $number (i32.const 0)))))
    (local.set $ptr (call $buffer_at (local.get $argv) (i32.const 1)))
    (if (i32.eqz (local.get $ptr)) (then (return (call $number (i32.const -28)))))
    ;; stdin the glue already read is served first; then the descriptor (host calls append to it).
    (if (i32.and (i32.eqz (local.get $write))
                 (i32.and (i32.eqz (call $arg_i32 (local.get $argv) (i32.const 0)))
                          (i32.lt_u (global.get $stdin_pos) (global.get $stdin_len))))
      (then
        (local.set $n (i32.sub (global.get $stdin_len) (global.get $stdin_pos)))
        (if (i32.lt_u (call $arg_i32 (local.get $argv) (i32.const 3)) (local.get $n))
          (then (local.set $n (call $arg_i32 (local.get $argv) (i32.const 3)))))
        (memory.copy (local.get $ptr) (i32.add (global.get $stdin_buf) (global.get $stdin_pos)) (local.get $n))
        (global.set $stdin_pos (i32.add (global.get $stdin_pos) (local.get $n)))
        (return (call $number (local.get $n)))))
    (i32.store (global.get $scratch) (local.get $ptr))
    (i32.store offset=4 (global.get $scratch) (call $arg_i32 (local.get $argv) (i32.const 3)))
    (local.set $err
      (if (result i32) (local.get $write)
        (then (call $fd_write (call $arg_i32 (local.get $argv) (i32.const 0)) (global.get $scratch) (i32.const 1) (i32.add (global.get $scratch) (i32.const 8))))
        (else (call $fd_read (call $arg_i32 (local.get $argv) (i32.const 0)) (global.get $scratch) (i32.const 1) (i32.add (global.get $scratch) (i32.const 8))))))
    (if (local.get $err) (then (return (call $number (i32.sub (i32.const 0) (local.get $err))))))
    (if (i32.and (local.get $write) (i32.eq (call $arg_i32 (local.get $argv) (i32.const 0)) (i32.const 1)))
      (then (global.set $stdout_bytes (i32.add (global.get $stdout_bytes) (i32.load offset=8 (global.get $scratch))))))
    (call $number (i32.load offset=8 (global.get $scratch))))

  ;; decode(ab, off, len) → string (UTF-8; invalid sequences become U+FFFD)
  (func $host_decode (param $argv i32) (result i32)
    (local $ptr i32) (local $len i32)
    (local.set $len (call $arg_i32 (local.get $argv) (i32.const 2)))
    (if (i32.eqz (local.get $len)) (then (return (call $qjs_new_string (global.get $scratch) (i32.const 0)))))
    (local.set $ptr (call $buffer_at (local.get $argv) (i32.const 0)))
    (if (i32.eqz (local.get $ptr)) (then (return (call $qjs_get_undefined))))
    (call $qjs_new_string (local.get $ptr) (local.get $len)))

  ;; encode(string) → Uint8Array (UTF-8)
  (func $host_encode (param $argv i32) (result i32)
    (local $str i32) (local $out i32)
    (local.set $str (call $qjs_get_string_len (call $arg (local.get $argv) (i32.const 0)) (i32.add (global.get $scratch) (i32.const 24))))
    (if (i32.eqz (local.get $str)) (then (return (i32.const 0))))
    (local.set $out (call $qjs_new_uint8_array (local.get $str) (i32.load offset=24 (global.get $scratch))))
    (call $qjs_free_cstring (local.get $str))
    (local.get $out))

  ;; argv1() → the process's second argument ("validate", "validate-settings"), or ""
  (func $host_argv1 (result i32)
    (local $argc i32) (local $vec i32) (local $buf i32) (local $s i32) (local $r i32)
    (drop (call $args_sizes_get (global.get $scratch) (i32.add (global.get $scratch) (i32.const 4))))
    (local.set $argc (i32.load (global.get $scratch)))
    (local.set $vec (call $malloc (i32.shl (i32.add (local.get $argc) (i32.const 1)) (i32.const 2))))
    (local.set $buf (call $malloc (i32.add (i32.load offset=4 (global.get $scratch)) (i32.const 1))))
    (drop (call $args_get (local.get $vec) (local.get $buf)))
    (if (i32.ge_u (local.get $argc) (i32.const 2))
      (then
        (local.set $s (i32.load offset=4 (local.get $vec)))
        (local.set $r (call $qjs_new_string (local.get $s) (call $strlen (local.get $s)))))
      (else (local.set $r (call $qjs_new_string (global.get $scratch) (i32.const 0)))))
    (call $free (local.get $vec))
    (call $free (local.get $buf))
    (local.get $r))

  ;; random(ab, off, len) → 0 or errno
  (func $host_random (param $argv i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (call $buffer_at (local.get $argv) (i32.const 0)))
    (if (i32.eqz (local.get $ptr)) (then (return (call $number (i32.const -28)))))
    (call $number (call $random_get (local.get $ptr) (call $arg_i32 (local.get $argv) (i32.const 2)))))

  ;; jsonDepth(ab, off, len, limit) → deepest [/{ nesting of JSON text, stopping once past limit.
  ;; A byte loop here costs microseconds where the same loop in QuickJS costs milliseconds.
  (func $host_json_depth (param $argv i32) (result i32)
    (local $p i32) (local $end i32) (local $limit i32) (local $c i32)
    (local $depth i32) (local $max i32) (local $in_string i32)
    (if (i32.eqz (call $arg_i32 (local.get $argv) (i32.const 2))) (then (return (call $number (i32.const 0)))))
    (local.set $p (call $buffer_at (local.get $argv) (i32.const 0)))
    (if (i32.eqz (local.get $p)) (then (return (call $number (i32.const -1)))))
    (local.set $end (i32.add (local.get $p) (call $arg_i32 (local.get $argv) (i32.const 2))))
    (local.set $limit (call $arg_i32 (local.get $argv) (i32.const 3)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $c (i32.load8_u (local.get $p)))
        (if (local.get $in_string)
          (then
            (if (i32.eq (local.get $c) (i32.const 92))
              (then (local.set $p (i32.add (local.get $p) (i32.const 1))))
              (else (if (i32.eq (local.get $c) (i32.const 34)) (then (local.set $in_string (i32.const 0)))))))
          (else
            (if (i32.eq (local.get $c) (i32.const 34))
              (then (local.set $in_string (i32.const 1)))
              (else
                (if (i32.or (i32.eq (local.get $c) (i32.const 91)) (i32.eq (local.get $c) (i32.const 123)))
                  (then
                    (local.set $depth (i32.add (local.get $depth) (i32.const 1)))
                    (if (i32.gt_s (local.get $depth) (local.get $max))
                      (then
                        (local.set $max (local.get $depth))
                        (br_if $done (i32.gt_s (local.get $max) (local.get $limit))))))
                  (else
                    (if (i32.or (i32.eq (local.get $c) (i32.const 93)) (i32.eq (local.get $c) (i32.const 125)))
                      (then (local.set $depth (i32.sub (local.get $depth) (i32.const 1)))))))))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next)))
    (call $number (local.get $max)))

${
  hostCalls
    ? `  ;; hostCall(ab, off, len, bdLen, nsLen, opLen) → the import's 0 (success) / 1 (error), or -1 for bad
  ;; arguments. The buffer holds binding, namespace, operation and payload back to back (UTF-8),
  ;; so all four pointers the import takes point into one bounds-checked region.
  (func $host_hostcall (param $argv i32) (result i32)
    (local $p i32) (local $len i32) (local $bd i32) (local $ns i32) (local $op i32)
    (local.set $len (call $arg_i32 (local.get $argv) (i32.const 2)))
    (local.set $bd (call $arg_i32 (local.get $argv) (i32.const 3)))
    (local.set $ns (call $arg_i32 (local.get $argv) (i32.const 4)))
    (local.set $op (call $arg_i32 (local.get $argv) (i32.const 5)))
    (if (i32.or (i32.or (i32.lt_s (local.get $bd) (i32.const 0)) (i32.lt_s (local.get $ns) (i32.const 0)))
                (i32.or (i32.lt_s (local.get $op) (i32.const 0)) (i32.le_s (local.get $len) (i32.const 0))))
      (then (return (call $number (i32.const -1)))))
    (if (i64.gt_u (i64.add (i64.add (i64.extend_i32_u (local.get $bd)) (i64.extend_i32_u (local.get $ns))) (i64.extend_i32_u (local.get $op)))
                  (i64.extend_i32_u (local.get $len)))
      (then (return (call $number (i32.const -1)))))
    (local.set $p (call $buffer_at (local.get $argv) (i32.const 0)))
    (if (i32.eqz (local.get $p)) (then (return (call $number (i32.const -1)))))
    (call $number
      (call $kw_host_call
        (local.get $p) (local.get $bd)
        (i32.add (local.get $p) (local.get $bd)) (local.get $ns)
        (i32.add (local.get $p) (i32.add (local.get $bd) (local.get $ns))) (local.get $op)
        (i32.add (local.get $p) (i32.add (local.get $bd) (i32.add (local.get $ns) (local.get $op))))
        (i32.sub (local.get $len) (i32.add (local.get $bd) (i32.add (local.get $ns) (local.get $op)))))))
`
    : ""
}
  ;; --- the engine's env.* imports ---
  (func (export "host_call") (param $name i32) (param $name_len i32) (param $this i32) (param $argc i32) (param $argv i32) (result i32)
    (local $which i32)
    (local.set $which (i32.load8_u (i32.sub (i32.add (local.get $name) (local.get $name_len)) (i32.const 1))))
    (if (i32.eq (local.get $which) (i32.const 114)) (then (return (call $host_rw (local.get $argv) (i32.const 0)))))   ;; r
    (if (i32.eq (local.get $which) (i32.const 119)) (then (return (call $host_rw (local.get $argv) (i32.const 1)))))   ;; w
    (if (i32.eq (local.get $which) (i32.const 100)) (then (return (call $host_decode (local.get $argv)))))  ;; d
    (if (i32.eq (local.get $which) (i32.const 101)) (then (return (call $host_encode (local.get $argv)))))   ;; e
    (if (i32.eq (local.get $which) (i32.const 97)) (then (return (call $host_argv1))))   ;; a
    (if (i32.eq (local.get $which) (i32.const 120)) (then (return (call $host_random (local.get $argv)))))   ;; x
    (if (i32.eq (local.get $which) (i32.const 106)) (then (return (call $host_json_depth (local.get $argv)))))  ;; j
    (if (i32.eq (local.get $which) (i32.const 112)) (then (return (call $host_install_precheck (local.get $argv)))))  ;; p
    (if (i32.eq (local.get $which) (i32.const 110)) (then (return (call $host_stdin_length))))  ;; n
    (if (i32.eq (local.get $which) (i32.const 118)) (then (return (call $host_precheck_verdict))))  ;; v
    (if (i32.eq (local.get $which) (i32.const 116)) (then (return (call $host_work_budget (local.get $argv)))))  ;; t
${hostCalls ? "    (if (i32.eq (local.get $which) (i32.const 104)) (then (return (call $host_hostcall (local.get $argv)))))  ;; h\n" : ""}    (call $qjs_get_undefined))
  ;; --- the engine's clock and entropy (see DETERMINISTIC_DURING_INIT) ---
  ;; While initialising (at build time, under Wizer) the engine sees a fixed clock
  ;; and fixed "random" bytes, so the snapshot, and so the module, is byte-for-byte
  ;; reproducible. Afterwards both pass through to the host.
  (func (export "clock_time_get") (param $id i32) (param $precision i64) (param $out i32) (result i32)
    (if (global.get $initialized)
      (then (return (call $clock_time_get (local.get $id) (local.get $precision) (local.get $out)))))
    (i64.store (local.get $out) (i64.const 0))
    (i32.const 0))
  (func (export "random_get") (param $ptr i32) (param $len i32) (result i32)
    (if (global.get $initialized)
      (then (return (call $random_get (local.get $ptr) (local.get $len)))))
    (memory.fill (local.get $ptr) (i32.const 0x5a) (local.get $len))
    (i32.const 0))
  (func (export "host_interrupt") (result i32)
    (if (i32.eqz (global.get $wb_active)) (then (return (i32.const 0))))
    (if (global.get $wb_polls)
      (then
        (global.set $wb_polls (i32.sub (global.get $wb_polls) (i32.const 1)))
        (return (i32.const 0))))
    (global.set $wb_hit (i32.const 1))
    (i32.const 1))
  (func (export "host_promise_rejection") (param $promise i32) (param $reason i32) (param $handled i32)
    (call $qjs_free_value (local.get $promise))
    (call $qjs_free_value (local.get $reason)))
  (func (export "host_module_normalize") (param i32 i32) (result i32) (i32.const 0))
  (func (export "host_module_load") (param i32 i32) (result i32) (i32.const 0))
  (func (export "host_get_timezone_offset") (param i32 i32) (result i32) (i32.const 0))
)
`;
}
