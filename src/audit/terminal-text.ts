/**
 * Text from manifests, policies and registries made safe for a terminal: every
 * control character (C0, DEL, C1 — ESC, CSI, OSC start sequences that move the
 * cursor, erase lines or set the window title) and every invisible reordering
 * character (bidi overrides and isolates, line/paragraph separators) is shown
 * escaped, `\x1b`, `\u202e`, whatever the colour setting. Our own escape codes
 * (colours) are added after escaping, so only they reach the terminal.
 *
 * One character class, no quantifier: linear in the text.
 */
const UNSAFE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;
const UNSAFE_WITH_BREAKS = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

function escape(c: string): string {
  const code = c.charCodeAt(0);
  if (c === "\n") return "\\n";
  if (c === "\t") return "\\t";
  if (c === "\r") return "\\r";
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
}

/** One line of text (a table cell, a name, a path): line breaks and tabs escaped too. */
export function terminalLine(text: string): string {
  return text.replace(UNSAFE_WITH_BREAKS, escape);
}

/** A message that may span lines: its line breaks and tabs kept, every other control character escaped. */
export function terminalText(text: string): string {
  return text.replace(UNSAFE, escape);
}
