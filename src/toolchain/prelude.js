// Runtime prelude evaluated inside the engine before the policy bundle.
// It gives bundles the API a Javy-built module sees (Javy.IO.readSync/writeSync,
// console → stderr, UTF-8 TextEncoder/TextDecoder) plus Kubewarden's
// policyAction(), built on the glue's raw host functions, which it then hides.
// Plain ES2020 script: no imports, runs once (at build time when snapshotted).
(function (g) {
  "use strict";
  var host = {
    read: g.__lpp_host_r,
    write: g.__lpp_host_w,
    decode: g.__lpp_host_d,
    encode: g.__lpp_host_e,
    argv1: g.__lpp_host_a,
    random: g.__lpp_host_x,
    jsonDepth: g.__lpp_host_j,
    // Present only in modules linked with the host-call import (see glue.ts, usesHostCalls).
    hostCall: g.__lpp_host_h,
  };
  ["r", "w", "d", "e", "a", "x", "j", "h"].forEach(function (k) {
    delete g["__lpp_host_" + k];
  });

  function bytesOf(buffer, what) {
    if (!(buffer instanceof Uint8Array)) throw new TypeError(what + ": expected a Uint8Array");
    return buffer;
  }
  function fdOf(fd) {
    if (typeof fd !== "number" || !(fd >= 0) || fd !== Math.floor(fd)) throw new TypeError("invalid file descriptor");
    return fd;
  }

  var IO = Object.freeze({
    readSync: function (fd, buffer) {
      var b = bytesOf(buffer, "Javy.IO.readSync");
      return host.read(fdOf(fd), b.buffer, b.byteOffset, b.byteLength);
    },
    writeSync: function (fd, buffer) {
      var b = bytesOf(buffer, "Javy.IO.writeSync");
      return host.write(fdOf(fd), b.buffer, b.byteOffset, b.byteLength);
    },
  });
  Object.defineProperty(g, "Javy", { value: Object.freeze({ IO: IO }), enumerable: false });

  function TextEncoder() {}
  TextEncoder.prototype.encoding = "utf-8";
  TextEncoder.prototype.encode = function (input) {
    return host.encode(input === undefined ? "" : String(input));
  };
  function TextDecoder(label) {
    var l = label === undefined ? "utf-8" : String(label).trim().toLowerCase();
    if (l !== "utf-8" && l !== "utf8") throw new RangeError("TextDecoder: only utf-8 is supported, got " + label);
  }
  TextDecoder.prototype.encoding = "utf-8";
  TextDecoder.prototype.decode = function (input) {
    if (input === undefined) return "";
    var b;
    if (input instanceof ArrayBuffer) b = new Uint8Array(input);
    else if (ArrayBuffer.isView(input)) b = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    else throw new TypeError("TextDecoder.decode: expected a BufferSource");
    var s = host.decode(b.buffer, b.byteOffset, b.byteLength);
    // A leading BOM is dropped, as the WHATWG decoder does by default.
    return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
  };
  g.TextEncoder = TextEncoder;
  g.TextDecoder = TextDecoder;

  function writeLine(parts) {
    var text = "";
    for (var i = 0; i < parts.length; i++) {
      var p = parts[i];
      if (i > 0) text += " ";
      if (typeof p === "string") text += p;
      else if (p instanceof Error) text += p.stack ? p.name + ": " + p.message + "\n" + p.stack : String(p);
      else {
        try {
          text += JSON.stringify(p);
        } catch (e) {
          text += String(p);
        }
      }
    }
    var b = host.encode(text + "\n");
    var off = 0;
    while (off < b.length) {
      var n = host.write(2, b.buffer, b.byteOffset + off, b.length - off);
      if (n <= 0) return;
      off += n;
    }
  }
  var log = function () {
    writeLine(arguments);
  };
  // Everything goes to stderr: stdout carries exactly one JSON answer.
  g.console = { log: log, info: log, warn: log, error: log, debug: log, trace: log };

  var action = null;
  g.policyAction = function () {
    if (action === null) action = host.argv1();
    return action;
  };

  // Kubewarden host capabilities, with the Javy Kubewarden plugin's signature:
  // __hostCall(binding, namespace, operation, payload: ArrayBuffer) → true on success.
  // The host appends its answer (the response, or the error text) to stdin; the
  // caller reads it from there (Javy.IO.readSync(0, …) until 0 bytes).
  if (typeof host.hostCall === "function") {
    var hostCall = host.hostCall;
    Object.defineProperty(g, "__hostCall", {
      value: function (binding, namespace, operation, payload) {
        var body;
        if (payload instanceof ArrayBuffer) body = new Uint8Array(payload);
        else if (ArrayBuffer.isView(payload)) body = new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength);
        else throw new TypeError("__hostCall: the payload must be an ArrayBuffer");
        var bd = host.encode(String(binding));
        var ns = host.encode(String(namespace));
        var op = host.encode(String(operation));
        var all = new Uint8Array(bd.length + ns.length + op.length + body.length);
        all.set(bd, 0);
        all.set(ns, bd.length);
        all.set(op, bd.length + ns.length);
        all.set(body, bd.length + ns.length + op.length);
        var r = hostCall(all.buffer, 0, all.length, bd.length, ns.length, op.length);
        if (r !== 0 && r !== 1) throw new TypeError("__hostCall: the host call could not be made (bad arguments)");
        return r === 0;
      },
      enumerable: false,
    });
  }

  // Byte-level nesting depth of JSON text, computed by the host in a tight loop.
  g.__lpp_jsonDepth = function (bytes, limit) {
    var b = bytesOf(bytes, "jsonDepth");
    return host.jsonDepth(b.buffer, b.byteOffset, b.byteLength, limit);
  };

  // Math.random: xorshift128+ reseeded from WASI random_get on every _start,
  // because a snapshot would otherwise replay the same sequence every run.
  var state = new Uint32Array(4);
  g.__lpp_reseed = function () {
    host.random(state.buffer, 0, 16);
    if ((state[0] | state[1] | state[2] | state[3]) === 0) state[0] = 1;
  };
  Math.random = function () {
    var s1h = state[0], s1l = state[1], s0h = state[2], s0l = state[3];
    state[0] = s0h;
    state[1] = s0l;
    // s1 ^= s1 << 23
    s1h ^= (s1h << 23) | (s1l >>> 9);
    s1l ^= s1l << 23;
    // s1 ^= s1 >> 17, s1 ^= s0, s1 ^= s0 >> 26
    s1l ^= (s1l >>> 17) | (s1h << 15);
    s1h ^= s1h >>> 17;
    s1h ^= s0h;
    s1l ^= s0l;
    s1l ^= (s0l >>> 26) | (s0h << 6);
    s1h ^= s0h >>> 26;
    state[2] = s1h;
    state[3] = s1l;
    // 53 random bits: the high word of the 64-bit sum and 21 bits of the low word
    var lo = (s1l >>> 0) + (s0l >>> 0);
    var hi = ((s1h >>> 0) + (s0h >>> 0) + (lo > 0xffffffff ? 1 : 0)) >>> 0;
    return (hi * 2097152 + ((lo >>> 0) >>> 11)) / 9007199254740992;
  };

  // The entry registered by the bundle (definePolicy) runs on every _start.
  var entry = null;
  g.__lpp_register = function (fn) {
    if (typeof fn !== "function") throw new TypeError("__lpp_register: expected a function");
    entry = fn;
  };
  g.__lpp_main = function () {
    if (entry !== null) entry();
  };
})(globalThis);
