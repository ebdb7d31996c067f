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
    precheck: g.__lpp_host_p,
    stdinLength: g.__lpp_host_n,
    precheckVerdict: g.__lpp_host_v,
    workBudget: g.__lpp_host_t,
  };
  ["r", "w", "d", "e", "a", "x", "j", "h", "p", "n", "v", "t"].forEach(function (k) {
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

  // ---------------------------------------------------------------------------
  // Native pre-check (see src/kubewarden/native-precheck.ts): a policy may declare,
  // at build time, when a validate request provably gets one constant answer.
  // The glue then checks the raw stdin bytes before any JS runs: well-formed
  // JSON, key/type rules, and no trigger text in the strings it is told to scan.
  // Here the declaration is compiled into the binary table the glue reads.
  var TYPE_BITS = { object: 1, "empty-object": 2, array: 4, string: 8, number: 16, port: 32, boolean: 64, null: 128 };
  function maxElements(r) {
    if (r.maxElements === undefined) return 0;
    var n = r.maxElements;
    if (typeof n !== "number" || n !== Math.floor(n) || n < 1 || n > 65535) throw new TypeError("native precheck: maxElements of " + r.key + " must be a whole number 1..65535");
    return n;
  }
  var ROLES = { "scope-list": 1, "name-list": 2, name: 3, reference: 4, "no-references": 5 };
  function role(r) {
    if (r.role === undefined) return 0;
    if (!Object.prototype.hasOwnProperty.call(ROLES, r.role)) throw new TypeError("native precheck: unknown role " + r.role + " of " + r.key);
    return ROLES[r.role];
  }
  function typeMask(list, what) {
    if (list === undefined) return 0;
    var m = 0;
    for (var i = 0; i < list.length; i++) {
      var b = TYPE_BITS[list[i]];
      if (b === undefined || !Object.prototype.hasOwnProperty.call(TYPE_BITS, list[i])) throw new TypeError("native precheck: unknown type " + list[i] + " in " + what);
      m |= b;
    }
    return m;
  }
  function asciiBytes(text, what) {
    var out = [];
    for (var i = 0; i < text.length; i++) {
      var c = text.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) throw new TypeError("native precheck: " + what + " must be printable ASCII without quotes or backslashes: " + text);
      out.push(c);
    }
    return out;
  }
  // Aho-Corasick automaton over lower-cased trigger bytes, expanded to a full DFA
  // (256 next states per state, ASCII letters folded) so the glue spends one load per byte.
  // Built in place in one Uint8Array (states < 255; 255 marks "no edge yet"): this runs
  // before the snapshot, and everything it allocates stays in the module's memory image
  // (a row of 256 numbers in a JS array is 4 KiB).
  var NONE = 255;
  function triggerAutomaton(triggers) {
    var words = triggers.map(function (t) {
      var bytes = asciiBytes(t.toLowerCase(), "trigger");
      if (bytes.length === 0) throw new TypeError("native precheck: empty trigger");
      return bytes;
    });
    // The trie's states are the distinct prefixes (the empty one included).
    var prefixes = new Set([""]);
    words.forEach(function (w) { for (var i = 1; i <= w.length; i++) prefixes.add(String.fromCharCode.apply(null, w.slice(0, i))); });
    var states = prefixes.size;
    if (states > 255) throw new TypeError("native precheck: too many trigger states (" + states + ")");
    var next = new Uint8Array(states * 256).fill(NONE);
    var accept = new Uint8Array(states);
    var count = 1;
    words.forEach(function (w) {
      var s = 0;
      w.forEach(function (b) {
        if (next[s * 256 + b] === NONE) next[s * 256 + b] = count++;
        s = next[s * 256 + b];
      });
      accept[s] = 1;
    });
    var fail = new Uint8Array(states);
    var queue = [];
    for (var c = 0; c < 256; c++) {
      if (next[c] === NONE) next[c] = 0;
      else queue.push(next[c]);
    }
    for (var q = 0; q < queue.length; q++) {
      var s = queue[q];
      if (accept[fail[s]]) accept[s] = 1;
      for (var b = 0; b < 256; b++) {
        var t = next[s * 256 + b];
        if (t === NONE) next[s * 256 + b] = next[fail[s] * 256 + b];
        else {
          fail[t] = next[fail[s] * 256 + b];
          queue.push(t);
        }
      }
    }
    for (var st = 0; st < states; st++) for (var u = 65; u <= 90; u++) next[st * 256 + u] = next[st * 256 + u + 32];
    return { next: next, accept: accept, states: states };
  }
  g.__lpp_declarePrecheck = function (config) {
    if (typeof host.precheck !== "function") return false;
    // Sorted by key length (stably), with an index of where each length starts, so
    // the glue compares a key only with the rules of its own length.
    var rules = (config.rules || []).slice().sort(function (a, b) { return a.key.length - b.key.length; });
    var ids = new Map();
    rules.forEach(function (r, i) {
      var key = r.key + "@" + (r.depth || 0);
      if (ids.has(key)) throw new TypeError("native precheck: duplicate rule " + key);
      if (!ids.has(r.key)) ids.set(r.key, i);
    });
    function ruleId(key, what) {
      if (key === undefined) return 0xffff;
      if (!ids.has(key)) throw new TypeError("native precheck: " + what + " " + key + " has no rule of its own");
      return ids.get(key);
    }
    var dfa = triggerAutomaton(config.triggers || []);
    var answer = host.encode(config.answer);
    // Header: 16 u32 words; offsets are from the table's start.
    var header = 64;
    var keys = [];
    var keyBytes = 0;
    rules.forEach(function (r) { var b = asciiBytes(r.key, "rule key"); keys.push(b); keyBytes += b.length; });
    var dfaOff = header, acceptOff = dfaOff + dfa.states * 256, transparentOff = acceptOff + dfa.states;
    var rulesOff = transparentOff + 256, keysOff = rulesOff + rules.length * 16, lengthsOff = keysOff + keyBytes, answerOff = lengthsOff + 257 * 2;
    // Written straight into its bytes (a JS array of numbers would cost 16 bytes a byte, in the memory image).
    var table = new Uint8Array(answerOff + answer.length);
    var pos = 0;
    function u8(v) { table[pos++] = v & 255; }
    function u16(v) { u8(v); u8(v >>> 8); }
    function u32(v) { u16(v & 0xffff); u16(v >>> 16); }
    u32(answerOff); u32(answer.length); u32(config.maxDepth); u32(config.maxInputBytes);
    u32(config.maxDigitRun); u32(config.maxColons); u32(dfa.states); u32(dfaOff);
    u32(acceptOff); u32(transparentOff); u32(rules.length); u32(rulesOff);
    // Word 15: whether triggers count from the start (1 when no rule arms them).
    var arming = rules.some(function (r) { return r.armsTriggers === true; });
    u32(ruleId(config.requiredTopLevelKey, "required top-level key")); u32(keysOff); u32(lengthsOff); u32(arming ? 0 : 1);
    table.set(dfa.next, pos);
    pos += dfa.next.length;
    table.set(dfa.accept, pos);
    pos += dfa.accept.length;
    var transparent = new Array(256).fill(0);
    for (var b = 0x80; b < 256; b++) transparent[b] = 1; // non-ASCII never spells a trigger, nor breaks one
    asciiBytes(config.transparent || "", "transparent").forEach(function (c) { transparent[c] = 1; });
    transparent.forEach(u8);
    var at = keysOff;
    rules.forEach(function (r, i) {
      u32(at); u8(keys[i].length); u8(r.depth || 0);
      u8(r.scan ? 1 : 0); u8(typeMask(r.types, r.key));
      u8(typeMask(r.elements, r.key + " elements")); u8(role(r));
      u16(ruleId(r.requiredKey, "required key"));
      // 16 bytes per rule: key offset, key length, depth, scan, types, element types, role,
      // required key, element limit, arms triggers, one unused byte.
      u16(maxElements(r)); u8(r.armsTriggers === true ? 1 : 0); u8(0);
      at += keys[i].length;
    });
    keys.forEach(function (k) { k.forEach(u8); });
    // lengths[L] = the first rule whose key has L bytes or more (L = 0..256)
    for (var len = 0, first = 0; len <= 256; len++) {
      while (first < keys.length && keys[first].length < len) first++;
      u16(first);
    }
    for (var i = 0; i < answer.length; i++) u8(answer[i]);
    if (pos !== table.length) throw new TypeError("native precheck: table size " + pos + " != " + table.length);
    return host.precheck(table.buffer, 0, table.length) === 1;
  };
  // The work budget (src/kubewarden/work-budget.ts): past `polls` interrupt polls
  // in JS (or, before JSON.parse, more than `hardNumbers` numbers it must round
  // exactly) a validate is answered with `answer` (JSON text). Build time only.
  g.__lpp_declareWorkBudget = function (polls, answer, hardNumbers) {
    if (typeof host.workBudget !== "function") return false;
    function whole(n, what) {
      if (typeof n !== "number" || !(n >= 0) || n !== Math.floor(n) || n > 0x7fffffff) throw new TypeError("work budget: " + what + " must be a whole number 0..2^31-1");
      return n;
    }
    if (whole(polls, "polls") === 0) throw new TypeError("work budget: polls must be at least 1");
    var bytes = host.encode(String(answer));
    return host.workBudget(polls, bytes.buffer, bytes.byteOffset, bytes.byteLength, whole(hardNumbers || 0, "hardNumbers")) === 1;
  };
  // True when this request's native pre-check found every rule satisfied and sent
  // the request to JS only for trigger text (src/kubewarden/native-precheck.ts).
  g.__lpp_precheckRulesHeld = function () {
    return typeof host.precheckVerdict === "function" && host.precheckVerdict() === 1;
  };
  // The whole of stdin the glue already read, in one exact-size buffer (null when it did not).
  g.__lpp_readStdinWhole = function () {
    if (typeof host.stdinLength !== "function") return null;
    var n = host.stdinLength();
    if (n < 0) return null;
    var b = new Uint8Array(n);
    var got = n === 0 ? 0 : host.read(0, b.buffer, 0, n);
    return got === n ? b : b.subarray(0, got < 0 ? 0 : got);
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
