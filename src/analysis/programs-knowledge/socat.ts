/**
 * socat: `socat [options] <address> <address>`. A listening address is
 * `TCP-LISTEN:<port>[,option…]` (also `TCP4-LISTEN`, `TCP6-LISTEN`, the `-L`
 * abbreviations, `OPENSSL-LISTEN`, `SSL-L`), bound on every interface unless its
 * `bind=<host>` option names one. Keywords are case-insensitive.
 * Source: socat(1), "ADDRESS TYPES" (TCP-LISTEN, OPENSSL-LISTEN) and "bind=".
 */
import { parseHostPort, parsePort } from "../listen-address.js";
import type { KnownBind } from "./binds.js";

/** Options that take a value (socat(1) "OPTIONS"). */
const VALUE_OPTIONS = new Set(["-b", "-t", "-T", "-L", "-W", "-lf", "-lp", "-r", "-R", "-S"]);

const LISTEN_TYPES = new Set(["tcp-listen", "tcp4-listen", "tcp6-listen", "tcp-l", "tcp4-l", "tcp6-l", "openssl-listen", "openssl-l", "ssl-listen", "ssl-l"]);

export const SOCAT_SOURCE = "socat(1): ADDRESS TYPES TCP-LISTEN / OPENSSL-LISTEN, option bind=";

/** The listeners of `socat` with these arguments. */
export function socatBinds(args: readonly string[], nextGroup: () => number): KnownBind[] {
  const out: KnownBind[] = [];
  let addresses = 0;
  for (let i = 0; i < args.length && addresses < 2; i++) {
    const w = args[i]!;
    if (w.charCodeAt(0) === 45 /* - */ && w.length > 1) {
      if (VALUE_OPTIONS.has(w)) i++;
      continue;
    }
    addresses++;
    const colon = w.indexOf(":");
    const comma = w.indexOf(",");
    const typeEnd = colon < 0 ? (comma < 0 ? w.length : comma) : comma < 0 ? colon : Math.min(colon, comma);
    if (!LISTEN_TYPES.has(w.slice(0, typeEnd).toLowerCase())) continue;
    const paramsEnd = comma < 0 ? w.length : comma;
    const port = colon >= 0 && colon < paramsEnd ? parsePort(w.slice(colon + 1, paramsEnd)) : null;
    let host = w.slice(0, 4).toLowerCase() === "tcp6" ? "::" : "";
    if (comma >= 0)
      for (const option of w.slice(comma + 1).split(",")) {
        const eq = option.indexOf("=");
        if (eq > 0 && option.slice(0, eq).toLowerCase() === "bind") host = parseHostPort(option.slice(eq + 1)).host;
      }
    out.push({ host, port, setting: "socat", value: w, source: "arg", certain: true, ambiguous: false, group: nextGroup() });
  }
  return out;
}
