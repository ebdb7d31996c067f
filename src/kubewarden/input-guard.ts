/**
 * Guards that run on the raw stdin bytes before any JSON parsing.
 *
 * Why: QuickJS's JSON.parse recurses in C once per nesting level. Inside
 * wasmtime (512 KiB native stack by default) a document nested a few thousand
 * levels deep exhausts the native stack, which is an uncatchable trap → a 500
 * for every matching admission request. So we measure depth on the bytes first.
 */

/** Deepest accepted nesting of arrays/objects. Kubernetes objects nest < 40 levels. */
export const MAX_JSON_DEPTH = 512;
/** Largest accepted stdin. The API server caps a request body at 3 MiB; this is generous. */
export const MAX_INPUT_BYTES = 32 * 1024 * 1024;

declare const __lpp_jsonDepth: ((bytes: Uint8Array, limit: number) => number) | undefined;

/**
 * Nesting depth of the JSON text, stopping early once it exceeds `limit`
 * (the returned value is then `limit + 1`, or more).
 * Uses the glue's native scanner when present (µs instead of ms in QuickJS).
 */
export function jsonDepth(bytes: Uint8Array, limit: number): number {
  if (typeof __lpp_jsonDepth === "function") return __lpp_jsonDepth(bytes, limit);
  return jsonDepthPortable(bytes, limit);
}

/** Plain-JS twin of the glue scanner: same result, used under Node and other engines. */
export function jsonDepthPortable(bytes: Uint8Array, limit: number): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > limit) break;
      }
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/** `text` is the decoded input, kept so a mutating policy can edit it without re-serialising. */
export type ParsedInput = { ok: true; value: unknown; text: string } | { ok: false; message: string };

/** Decode and parse stdin as JSON, with size and depth guards and messages that say what was wrong. */
export function parseInput(bytes: Uint8Array): ParsedInput {
  if (bytes.length === 0) return { ok: false, message: "empty input: expected a JSON document on stdin" };
  if (bytes.length > MAX_INPUT_BYTES)
    return { ok: false, message: `input too large: ${bytes.length} bytes (limit ${MAX_INPUT_BYTES})` };
  const depth = jsonDepth(bytes, MAX_JSON_DEPTH);
  if (depth > MAX_JSON_DEPTH)
    return { ok: false, message: `input nested too deeply: more than ${MAX_JSON_DEPTH} levels of arrays/objects` };
  const text = new TextDecoder().decode(bytes);
  try {
    return { ok: true, value: JSON.parse(text), text };
  } catch (e) {
    return { ok: false, message: `input is not valid JSON: ${errorMessage(e)}` };
  }
}

export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  try {
    return String(e);
  } catch {
    return "unknown error";
  }
}
