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

export function parsePort(text: string): number | null {
  if (!/^\d{1,5}$/.test(text.trim())) return null;
  const n = Number(text.trim());
  return n >= 1 && n <= 65535 ? n : null;
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
  if (colons === 0 && parsePort(v) !== null) return { host: "", port: parsePort(v) };
  return { host: v, port: null };
}

const SCHEME_PORTS: Record<string, number> = { http: 80, https: 443 };

/** A list of URLs (`,` or `;` separated); entries that are not URLs are read as host:port. */
export function parseUrls(value: string): ParsedAddress[] {
  return value
    .split(/[;,]/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((entry) => {
      const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)/i.exec(entry);
      if (!m) return parseHostPort(entry);
      const scheme = m[1]!.toLowerCase();
      const authority = m[2]!.replace(/^.*@/, "");
      const parsed = parseHostPort(authority);
      // ASP.NET's "+" and "*" wildcards mean all interfaces.
      const host = parsed.host === "+" || parsed.host === "*" ? "" : parsed.host;
      return { host, port: parsed.port ?? SCHEME_PORTS[scheme] ?? null };
    });
}

/** Parse a value in the given form. URL-looking values are read as URLs whatever the form. */
export function parseListenValue(value: string, form: ListenForm): ParsedAddress[] {
  if (form === "url" || value.includes("://")) return parseUrls(value);
  return [parseHostPort(value)];
}
