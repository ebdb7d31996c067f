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
  const text = raw.trim();
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

/** `host:port`, `[v6]:port`, `:port`, or a bare host (port null). */
export function parseHostPort(value: string): ParsedAddress {
  const v = value.trim();
  if (v.startsWith("[")) {
    const close = v.indexOf("]");
    if (close < 0) return { host: v, port: null };
    const host = v.slice(0, close + 1);
    const rest = v.slice(close + 1);
    return { host, port: rest.startsWith(":") ? parsePort(rest.slice(1)) : null };
  }
  const colons = v.split(":").length - 1;
  if (colons === 1) {
    const [host, port] = v.split(":") as [string, string];
    return { host, port: parsePort(port) };
  }
  // No colon: a bare host or a bare port; more than one: an unbracketed IPv6 literal.
  // A bare port is written as one (Go would read `8080` as a host, but every
  // program that takes a bare port here means the port); long numbers are hosts
  // (`2130706433` is 127.0.0.1 to inet_aton).
  if (colons === 0 && v.length <= 6 && parsePort(v) !== null) return { host: "", port: parsePort(v) };
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
  for (let i = 0; i <= value.length; i++) {
    const c = i < value.length ? value.charCodeAt(i) : 44;
    if (c !== 44 /* , */ && c !== 59 /* ; */) continue;
    const entry = value.slice(start, i).trim();
    start = i + 1;
    if (entry.length > 0) out.push(parseUrl(entry));
  }
  return out;
}

function parseUrl(entry: string): ParsedAddress {
  const sep = entry.indexOf("://");
  if (sep <= 0) return parseHostPort(entry);
  const scheme = entry.slice(0, sep).toLowerCase();
  let end = sep + 3;
  while (end < entry.length) {
    const c = entry.charCodeAt(end);
    if (c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */) break;
    end++;
  }
  const authority = entry.slice(sep + 3, end);
  const parsed = parseHostPort(authority.slice(authority.lastIndexOf("@") + 1));
  // ASP.NET's "+" and "*" wildcards mean all interfaces.
  const host = parsed.host === "+" || parsed.host === "*" ? "" : parsed.host;
  return { host, port: parsed.port ?? SCHEME_PORTS.get(scheme) ?? null };
}

/** Parse a value in the given form. URL-looking values are read as URLs whatever the form. */
export function parseListenValue(value: string, form: ListenForm): ParsedAddress[] {
  if (form === "url" || value.includes("://")) return parseUrls(value);
  return [parseHostPort(value)];
}
