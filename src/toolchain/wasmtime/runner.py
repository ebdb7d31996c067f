"""
A persistent wasmtime runner for Kubewarden WASI policies, driven by
src/toolchain/wasmtime-runner.ts over JSON lines on stdin/stdout.

It configures wasmtime the way policy-server does (crates/policy-server/src/lib.rs,
crates/policy-evaluator/src/runtimes/wasi_cli/): Config::default() plus function
references and epoch interruption; an epoch ticker advancing every second; a
deadline of N epochs per evaluation (policy-server's --policy-timeout, default 2);
the module compiled once and instantiated fresh, from an InstancePre, in a new
Store per evaluation; a linker holding WASI preview1, `host.call` and
`kubewarden:javy/host.call`; argv ["policy.wasm", action]; no environment, no
preopened directories. A host call is relayed to the client, whose answer is
appended to the module's stdin (0 = success, 1 = error), as policy-evaluator does.

stdin is a pipe as in policy-evaluator (wasi_cli/wasi_pipe.rs): a byte queue that
reads drain and host calls append to; an empty queue reads as 0 bytes. wasmtime's
own file-backed stdin cannot grow once read to its end, so `fd_read` is shadowed
by this queue (for stdin only; a policy has no other descriptor to read).

A second engine with fuel enabled counts executed wasm instructions exactly:
a deterministic cost measure (it has no deadline; fuel exhaustion traps).

Messages (one JSON object per line):
  client -> runner  {"id", "op": "run", "module": PATH, "action", "stdin": B64,
                     "timeoutEpochs": int|null, "fuel": bool}
                    {"id", "op": "host_answer", "ok": bool, "response": B64, "error": str}
  runner -> client  {"type": "ready", "wasmtime": VERSION}
                    {"id", "type": "host_call", "binding", "namespace", "operation", "payload": B64}
                    {"id", "type": "result", "exitCode": int|null, "stdout": B64, "stderr": B64,
                     "trap": str|null, "interrupted": bool, "fuel": int|null,
                     "instantiateMs": float, "startMs": float}
                    {"id", "type": "error", "message": str}   (module cannot be compiled or linked)
"""

import base64
import ctypes
import hashlib
import json
import os
import sys
import threading
import time
from importlib import metadata

import wasmtime

FUEL_BUDGET = 5 * 10**10
NO_DEADLINE = 2**62
HOST_CALL_MODULES = ("host", "kubewarden:javy/host")
VERSION = metadata.version("wasmtime")
# Compiled modules are cached here (argv[1]); none: compile in memory only.
CACHE_DIR = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else None

protocol_in = sys.stdin.buffer
protocol_out = sys.stdout.buffer
# Nothing but protocol messages may reach stdout.
sys.stdout = sys.stderr


def send(message):
    protocol_out.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")
    protocol_out.flush()


def receive():
    line = protocol_in.readline()
    if not line:
        # The client is gone. Exit at once: a normal interpreter shutdown would
        # tear down wasmtime's runtime under the epoch ticker thread.
        os._exit(0)
    return json.loads(line)


def b64(data):
    return base64.b64encode(bytes(data)).decode("ascii")


ERRNO_SUCCESS, ERRNO_BADF, ERRNO_FAULT = 0, 8, 21


class Evaluation:
    """State of the evaluation in progress: host calls need its id, reads and host calls share its stdin."""

    id = None
    stdin = bytearray()
    read_at = 0


def fd_read(caller, fd, iovs, iovs_len, nread_ptr):
    if fd != 0:
        return ERRNO_BADF
    memory = caller.get("memory")
    if not isinstance(memory, wasmtime.Memory):
        return ERRNO_FAULT
    # Bytes move with ctypes, not memory.read/write: each wasmtime-py call crosses
    # the FFI, and policy-evaluator's pipe is native, so the fewer of them, the closer.
    size = memory.data_len(caller)
    base = ctypes.addressof(memory.data_ptr(caller).contents)
    iovs &= 0xFFFFFFFF
    iovs_len &= 0xFFFFFFFF
    nread_ptr &= 0xFFFFFFFF
    if iovs + 8 * iovs_len > size or nread_ptr + 4 > size:
        return ERRNO_FAULT
    vectors = ctypes.string_at(base + iovs, 8 * iovs_len)
    total = 0
    for i in range(iovs_len):
        buf = int.from_bytes(vectors[8 * i:8 * i + 4], "little")
        length = int.from_bytes(vectors[8 * i + 4:8 * i + 8], "little")
        if buf + length > size:
            return ERRNO_FAULT
        n = min(length, len(current.stdin) - current.read_at)
        if n <= 0:
            break
        chunk = bytes(current.stdin[current.read_at:current.read_at + n])
        ctypes.memmove(base + buf, chunk, n)
        current.read_at += n
        total += n
        if n < length:
            break
    ctypes.memmove(base + nread_ptr, total.to_bytes(4, "little"), 4)
    return ERRNO_SUCCESS


current = Evaluation()


def host_call(caller, bd_ptr, bd_len, ns_ptr, ns_len, op_ptr, op_len, ptr, length):
    memory = caller.get("memory")
    answer_ok, answer = False, b"host call: the module exports no memory"
    if isinstance(memory, wasmtime.Memory):
        size = memory.data_len(caller)
        spans = [(p & 0xFFFFFFFF, n & 0xFFFFFFFF) for p, n in ((bd_ptr, bd_len), (ns_ptr, ns_len), (op_ptr, op_len), (ptr, length))]
        if any(p + n > size for p, n in spans):
            answer = b"host call: argument out of memory bounds"
        else:
            parts = [bytes(memory.read(caller, p, p + n)) for p, n in spans]
            try:
                names = [part.decode("utf-8") for part in parts[:3]]
            except UnicodeDecodeError:
                answer = b"host call: binding, namespace or operation is not valid UTF-8"
            else:
                send({"id": current.id, "type": "host_call", "binding": names[0], "namespace": names[1],
                      "operation": names[2], "payload": b64(parts[3])})
                reply = receive()
                answer_ok = bool(reply.get("ok"))
                answer = base64.b64decode(reply.get("response") or "") if answer_ok else str(reply.get("error", "")).encode()
    current.stdin.extend(answer)
    return 0 if answer_ok else 1


def make_engine(fuel):
    config = wasmtime.Config()
    config.wasm_function_references = True
    config.epoch_interruption = True
    if fuel:
        config.consume_fuel = True
    return wasmtime.Engine(config)


def make_linker(engine):
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    i32 = wasmtime.ValType.i32()
    linker.allow_shadowing = True
    linker.define_func("wasi_snapshot_preview1", "fd_read", wasmtime.FuncType([i32] * 4, [i32]), fd_read, access_caller=True)
    signature = wasmtime.FuncType([i32] * 8, [i32])
    for module in HOST_CALL_MODULES:
        linker.define_func(module, "call", signature, host_call, access_caller=True)
    return linker


class Runtime:
    def __init__(self, fuel):
        self.fuel = fuel
        self.engine = make_engine(fuel)
        self.linker = make_linker(self.engine)
        self.prepared = {}

    def instance_pre(self, path):
        """Compile once per module content; reuse the InstancePre for every evaluation."""
        with open(path, "rb") as f:
            wasm = f.read()
        key = hashlib.sha256(wasm).hexdigest()
        pre = self.prepared.get(key)
        if pre is None:
            pre = self.linker.instantiate_pre(self.compile(key, wasm))
            self.prepared[key] = pre
        return pre

    def compile(self, key, wasm):
        """Cranelift takes seconds for a 1 MB module: keep the compiled code on disk, per content and engine config."""
        if CACHE_DIR is None:
            return wasmtime.Module(self.engine, wasm)
        path = os.path.join(CACHE_DIR, f"{key}-{VERSION}-{'fuel' if self.fuel else 'epoch'}.cwasm")
        if os.path.exists(path):
            try:
                return wasmtime.Module.deserialize_file(self.engine, path)
            except wasmtime.WasmtimeError:
                pass  # stale or damaged: compile again
        module = wasmtime.Module(self.engine, wasm)
        os.makedirs(CACHE_DIR, exist_ok=True)
        temporary = f"{path}.{os.getpid()}.tmp"
        with open(temporary, "wb") as f:
            f.write(module.serialize())
        os.replace(temporary, path)
        return module


runtimes = {}


def runtime(fuel):
    if fuel not in runtimes:
        runtimes[fuel] = Runtime(fuel)
    return runtimes[fuel]


def epoch_ticker():
    while True:
        time.sleep(1)
        for rt in list(runtimes.values()):
            rt.engine.increment_epoch()


def run(request):
    rt = runtime(bool(request.get("fuel")))
    try:
        pre = rt.instance_pre(request["module"])
    except (wasmtime.WasmtimeError, OSError) as e:
        send({"id": request["id"], "type": "error", "message": str(e)})
        return
    stdout, stderr = bytearray(), bytearray()
    wasi = wasmtime.WasiConfig()
    wasi.argv = ["policy.wasm", request["action"]]
    wasi.stdout_custom = lambda data: stdout.extend(data)
    wasi.stderr_custom = lambda data: stderr.extend(data)
    current.id = request["id"]
    current.stdin = bytearray(base64.b64decode(request["stdin"]))
    current.read_at = 0

    t0 = time.perf_counter()
    store = wasmtime.Store(rt.engine)
    store.set_wasi(wasi)
    if rt.fuel:
        store.set_fuel(FUEL_BUDGET)
    epochs = request.get("timeoutEpochs")
    store.set_epoch_deadline(NO_DEADLINE if epochs is None else int(epochs))
    exit_code, trap, interrupted = 0, None, False
    try:
        instance = pre.instantiate(store)
    except (wasmtime.WasmtimeError, wasmtime.Trap) as e:
        send({"id": request["id"], "type": "error", "message": f"cannot instantiate module: {e}"})
        return
    t1 = time.perf_counter()
    start = instance.exports(store).get("_start")
    try:
        if not isinstance(start, wasmtime.Func):
            raise wasmtime.WasmtimeError("module has no `_start` function")
        start(store)
    except wasmtime.ExitTrap as e:
        exit_code = e.code
    except wasmtime.Trap as e:
        exit_code, trap = None, e.message
        interrupted = e.trap_code == wasmtime.TrapCode.INTERRUPT
    except wasmtime.WasmtimeError as e:
        exit_code, trap = None, str(e)
    t2 = time.perf_counter()
    fuel = FUEL_BUDGET - store.get_fuel() if rt.fuel else None
    send({
        "id": request["id"], "type": "result", "exitCode": exit_code, "stdout": b64(stdout), "stderr": b64(stderr),
        "trap": trap, "interrupted": interrupted, "fuel": fuel,
        "instantiateMs": (t1 - t0) * 1000, "startMs": (t2 - t1) * 1000,
    })


def main():
    runtime(False)
    threading.Thread(target=epoch_ticker, daemon=True).start()
    send({"type": "ready", "wasmtime": VERSION})
    while True:
        request = receive()
        if request.get("op") == "run":
            run(request)
        else:
            send({"id": request.get("id"), "type": "error", "message": f"unexpected message {request.get('op')!r}"})


if __name__ == "__main__":
    main()
