/**
 * Parsing the value of a listen-address flag or variable into host + port.
 * Values come in three shapes: `host:port` (with `[v6]:port`), a bare host
 * (the port comes from a paired flag or a default), and URLs
 * (`http://127.0.0.1:2381`, possibly comma- or semicolon-separated lists).
 */

/** `address`: host, host:port, :port or a bare port; `url`: scheme://host:port lists. */
export type ListenForm = "address" | "url";

export interface ParsedAddress {
  host: string;
  /** null when the value names no port. */
  port: number | null;
}

/**
 * A port as Go's net package reads it (net.parsePort, then the 0–65535 check of
 * net.Listen): an optional `+`, then decimal digits with any number of leading
 * zeros (`+8080` and `0008080` are 8080). 0 means "any free port": unknown.
 */
export function parsePort(raw: string): number | null {
  // A port as nearly every manifest writes it (`8080`): two native calls instead of a
  // character loop, which costs ~20K wasm instructions in QuickJS. Number() would
  // also take `0x1f`, `1e3` or ` 80`; only the canonical spelling passes String(n).
  const quick = Number(raw);
  if (quick >= 1 && quick <= 65535 && (quick | 0) === quick && String(quick) === raw) return quick;
  const text = raw.charCodeAt(0) <= 32 || raw.charCodeAt(raw.length - 1) <= 32 ? raw.trim() : raw;
  let i = text.charCodeAt(0) === 43 /* + */ ? 1 : 0;
  if (i === text.length) return null;
  let n = 0;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return null;
    n = n * 10 + (c - 48);
    if (n > 65535) return null;
  }
  return n >= 1 ? n : null;
}

/**
 * `host:port`, `[v6]:port`, `:port`, or a bare host (port null). Native string
 * searches only: in QuickJS a character loop or a split costs thousands of
 * instructions, and URL lists call this once per entry.
 */
export function parseHostPort(value: string): ParsedAddress {
  const v = value.charCodeAt(0) <= 32 || value.charCodeAt(value.length - 1) <= 32 ? value.trim() : value;
  if (v.charCodeAt(0) === 91 /* [ */) {
    const close = v.indexOf("]");
    if (close < 0) return { host: v, port: null };
    const host = v.slice(0, close + 1);
    return { host, port: v.charCodeAt(close + 1) === 58 /* : */ ? parsePort(v.slice(close + 2)) : null };
  }
  const colon = v.indexOf(":");
  if (colon >= 0 && v.indexOf(":", colon + 1) < 0) return { host: v.slice(0, colon), port: parsePort(v.slice(colon + 1)) };
  // No colon: a bare host or a bare port; more than one: an unbracketed IPv6 literal.
  // A bare port is written as one (Go would read `8080` as a host, but every
  // program that takes a bare port here means the port); long numbers are hosts
  // (`2130706433` is 127.0.0.1 to inet_aton).
  if (colon < 0 && v.length <= 6) {
    const port = parsePort(v);
    if (port !== null) return { host: "", port };
  }
  return { host: v, port: null };
}

/** A Map, not an object: the scheme comes from the request (`constructor://…`). */
const SCHEME_PORTS = new Map<string, number>([
  ["http", 80],
  ["https", 443],
]);

/**
 * A list of URLs (`,` or `;` separated); entries that are not URLs are read as
 * host:port. A hand-written scan: a regex split runs the regex engine at every
 * character, which QuickJS makes costly on 100 KB lists.
 */
export function parseUrls(value: string): ParsedAddress[] {
  const out: ParsedAddress[] = [];
  let start = 0;
  let comma = value.indexOf(",");
  let semicolon = value.indexOf(";");
  while (start <= value.length) {
    if (comma >= 0 && comma < start) comma = value.indexOf(",", start);
    if (semicolon >= 0 && semicolon < start) semicolon = value.indexOf(";", start);
    const end = comma < 0 ? (semicolon < 0 ? value.length : semicolon) : semicolon < 0 ? comma : Math.min(comma, semicolon);
    if (end > start) {
      const entry = value.slice(start, end);
      const trimmed = entry.charCodeAt(0) <= 32 || entry.charCodeAt(entry.length - 1) <= 32 ? entry.trim() : entry;
      if (trimmed.length > 0) out.push(parseUrl(trimmed));
    }
    start = end + 1;
  }
  return out;
}

function parseUrl(entry: string): ParsedAddress {
  const sep = entry.indexOf("://");
  if (sep <= 0) return parseHostPort(entry);
  let end = entry.length;
  const slash = entry.indexOf("/", sep + 3);
  if (slash >= 0) end = slash;
  const query = entry.indexOf("?", sep + 3);
  if (query >= 0 && query < end) end = query;
  const hash = entry.indexOf("#", sep + 3);
  if (hash >= 0 && hash < end) end = hash;
  const at = entry.lastIndexOf("@", end - 1);
  const parsed = parseHostPort(entry.slice(at > sep ? at + 1 : sep + 3, end));
  // ASP.NET's "+" and "*" wildcards mean all interfaces.
  const host = parsed.host === "+" || parsed.host === "*" ? "" : parsed.host;
  if (parsed.port !== null) return host === parsed.host ? parsed : { host, port: parsed.port };
  return { host, port: SCHEME_PORTS.get(entry.slice(0, sep).toLowerCase()) ?? null };
}

/** Parse a value in the given form. URL-looking values are read as URLs whatever the form. */
export function parseListenValue(value: string, form: ListenForm): ParsedAddress[] {
  if (form === "url" || value.includes("://")) return parseUrls(value);
  return [parseHostPort(value)];
}
