/**
 * `bench`'s name, summary and help, apart from its implementation: the help is
 * printed by the installed CLI too, which cannot load the implementation (it
 * builds modules with the dev-dependency toolchain).
 */
import { MAX_ANSWER_BYTES } from "../kubewarden/bounded.js";
import { DEFAULT_TIMEOUT_SECONDS } from "../toolchain/evaluate.js";
import { WASMTIME_VERSION } from "../toolchain/wasmtime-runner.js";
import { CORPUS_FLEET_OBJECTS, CORPUS_ROUNDS, MIX_ITERATIONS } from "../bench/defaults.js";
import { MAX_REQUEST_BYTES, SHAPES } from "../bench/worst-case.js";

function wrapped(text: string, width: number, indent: string): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") lines.push(indent + line);
  return lines.join("\n");
}

export const BENCH_SUMMARY = "time a policy against the floor and a Javy-semantics build (like kwctl bench; source checkout)";

export const BENCH_HELP = `Usage: loopback-probes bench [--policy POLICY_DIR] [--request-path R]… [--iterations N]
                             [--settings-json J | --settings-path F]
                             [--engine wasmtime|node]… [--timeout SECONDS]
                             [--mix DIR|none]
       loopback-probes bench --fleet N [--policy POLICY_DIR] [--timeout SECONDS]
       loopback-probes bench --corpus DIR [--rounds N]
       loopback-probes bench --worst-case [--policy POLICY_DIR] [--shape NAME]… [--size BYTES] [--timeout SECONDS]

Builds (cached in .cache/bench/) three modules with the same toolchain: the
policy, the same policy in Javy semantics (top level run in every _start), and
the floor (the protocol layer with an empty policy). Then, in this one process,
evaluates each request N times per module with a fresh instance per evaluation,
as policy-server does, the policy and the floor taking turns (so machine noise
hits both alike and their ratio holds), and prints min / median / p90 in ms of
  total   instantiate + _start (what node:wasi costs end to end)
  _start  the evaluation itself (policy-server instantiates from a pre-built
          image, so per request it pays essentially this)
for validate-settings and validate, then the ratios policy/floor and
javy/policy of the validate _start medians, and the module sizes.

Engines (--engine, repeatable; default both):
  node      node:wasi (V8); _start as measured around WASI start()
  wasmtime  wasmtime ${WASMTIME_VERSION} configured as policy-server (epoch deadline
            --timeout, default ${DEFAULT_TIMEOUT_SECONDS} s: a request that hits it is reported as such);
            times are measured inside the runner around instantiation and
            _start (which includes reading stdin: the runner serves fd_read
            from Python, as a pipe, like policy-evaluator). Also prints the exact wasm instructions of one validate
            (wasmtime fuel), a machine-independent cost. Needs .cache/wasmtime
            (python3 -m venv .cache/wasmtime && .cache/wasmtime/bin/pip install
            wasmtime==${WASMTIME_VERSION})

Defaults: --policy policies/reject-loopback-probes, requests: its
test_data/prometheus-listenlocal-broken.json, the clean requests of bench/requests
(GitOps Deployment CREATE and UPDATE, a ReplicaSet-created Pod) and a generated
~1 MB StatefulSet,
--iterations 200.

Then the traffic mix: every workload of ../shared/corpus (when present; --mix DIR
for another folder of manifests, --mix none to skip), each sent as a CREATE with
default settings, plus the policy's own violating test_data requests. Policy and
floor take turns on each request; per engine it prints the geometric mean of
policy / floor over the clean requests (accepted without a word), over the
violating ones, and (wasmtime) how many clean ones the native pre-check answered
(instructions below a fifth of the floor's). Under wasmtime the ratio is of wasm instruction
counts (fuel, exact); under node:wasi of _start medians (${MIX_ITERATIONS} runs unless
--iterations is given).

--fleet N: the offline audit's throughput instead, in this process (warm, no
process start: --corpus has the end-to-end figure). Generates a deterministic
fleet of N objects as one YAML stream (Deployments, StatefulSets, DaemonSets,
CronJobs, Services, ConfigMaps; one workload in forty binds loopback), then runs
it through \`audit\`'s pipeline: read as audit reads it (on up to 2 cores by the main
thread, else on worker threads, one fewer than the cores), each
object evaluated with the policy on the evaluation pool (one worker per core,
one fewer while the main thread reads, as the audit sizes it; reused instances)
as soon as it is read. Prints objects/s end to end, when
reading and evaluation ran (they overlap), the worker threads, the CPU time
over the wall time (cores busy) and the process's peak RSS.

--corpus DIR: the audit end to end, as a user runs it: \`loopback-probes audit
-f json DIR\` in a new process (process start included, output read from a
pipe), beside its floor, js-yaml parsing the same files on one thread (parse
only, files already in memory), and the audit's own reading of them alone (no
evaluation, no process start: what the audit cannot go below), then the same
audit of a generated fleet of ${CORPUS_FLEET_OBJECTS} objects in one YAML file, all with the
modules in dist/ (make build). Prints seconds, the ratio to the floor, the CPU
time of every thread (and the audit's CPU over the cores: the least wall time
this machine allows it), objects/s and the audit process's peak RSS; they take
turns for --rounds rounds (default ${CORPUS_ROUNDS}) and each figure is the median, with
min–max.
Example: loopback-probes bench --corpus /work/shared/corpus

--worst-case: adversarial requests instead. Generates, deterministically,
each shape of src/bench/worst-case.ts,
${wrapped(SHAPES.map((s) => s.name).join(", "), 76, "  ")}
grown to --size bytes of stdin (default ${MAX_REQUEST_BYTES}, the API server's
3 MiB limit) and evaluates it under wasmtime ${WASMTIME_VERSION} with each probe policy
(--policy: just that one): once with fuel for the exact wasm instructions, once
configured as policy-server with its epoch deadline (--timeout, default
${DEFAULT_TIMEOUT_SECONDS} s; a 1 s ticker, so the interrupt comes after 1–2 s). Prints per shape: request
bytes, wasm instructions, instructions per request byte, _start wall ms under
the deadline, answer bytes (limit ${MAX_ANSWER_BYTES}) and the answer (rejected, accepted,
mutated) of the run without deadline, and whether the deadline was met (a miss is a 500 from
policy-server). --shape NAME (repeatable) picks shapes. Exit code 1 when a
request missed the deadline or an answer was over the limit.`;
