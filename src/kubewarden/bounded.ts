/**
 * Bounds on what a policy answers (issue 9). A request is up to 3 MiB and
 * entirely the sender's; the answer must stay small whatever it holds:
 * policy-server forwards it to the API server, which shows warnings to the
 * user (and truncates them past 4 KiB in total) and refuses objects over
 * ~1.5 MiB in etcd anyway.
 */

/** The largest answer a policy writes on stdout, in bytes of UTF-8. runPolicy enforces it last. */
export const MAX_ANSWER_BYTES = 1024 * 1024;
/** Warnings about single probes listed before one line saying how many more. */
export const MAX_LISTED_WARNINGS = 20;
/** Characters of one warning (longer ones are cut, saying how long they were). */
export const MAX_WARNING_CHARS = 2048;

/**
 * `text` cut to at most `max` characters plus a note of its length. A cut never
 * splits a surrogate pair (a lone half would be escaped, not lost, but reads as garbage).
 */
export function clipText(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…(${text.length} characters)`;
}

/** Every warning cut to MAX_WARNING_CHARS. */
export function clipWarnings(warnings: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < warnings.length; i++) out.push(clipText(warnings[i]!, MAX_WARNING_CHARS));
  return out;
}

/**
 * At most MAX_LISTED_WARNINGS lines for `items`, then one line for the rest
 * (`more` words it from the items left out). Cost: the listed items only,
 * plus whatever `more` does with the rest.
 */
export function listLines<T>(items: readonly T[], line: (item: T) => string, more: (omitted: readonly T[]) => string): string[] {
  const out: string[] = [];
  const listed = Math.min(items.length, MAX_LISTED_WARNINGS);
  for (let i = 0; i < listed; i++) out.push(line(items[i]!));
  if (items.length > listed) out.push(more(items.slice(listed)));
  return out;
}

/** Bytes of `text` in UTF-8 (native encoder; no per-character JS). */
export function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}

export const plural = (n: number, word: string, words = `${word}s`) => `${n} ${n === 1 ? word : words}`;
