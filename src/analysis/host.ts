/**
 * Classifying the host part of a listen address.
 *
 * Only a positive identification of loopback leads to a finding; anything we
 * cannot read (an unexpanded `$(POD_IP)`, a hostname) is never loopback.
 */

export type HostClass = "loopback" | "all-interfaces" | "other" | "unknown";

const LOOPBACK_NAMES = new Set(["localhost", "localhost.", "ip6-localhost", "ip6-loopback"]);
const ALL_INTERFACE_NAMES = new Set(["", "*", "0.0.0.0", "::", "[::]"]);

/**
 * An IPv4 address as glibc's inet_aton (and so Python's socket module, Node and
 * every C program calling getaddrinfo with AI_NUMERICHOST) reads it: one to four
 * parts, each decimal, octal (leading 0) or hex (0x); the last part fills the
 * remaining bytes. `127.1`, `0x7f000001`, `2130706433` and `0177.0.0.1` are all
 * 127.0.0.1. Returns the 32-bit value, or null. Linear, no regex.
 */
export function parseInetAton(text: string): number | null {
  if (text.length === 0 || text.length > 64) return null;
  const parts: number[] = [];
  let i = 0;
  while (true) {
    if (parts.length === 4) return null;
    let base = 10;
    let start = i;
    if (text.charCodeAt(i) === 48 /* 0 */) {
      const next = text.charCodeAt(i + 1) | 0x20;
      if (next === 0x78 /* x */) {
        base = 16;
        i += 2;
        start = i;
      } else base = 8;
    }
    let value = 0;
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      let d: number;
      if (c >= 48 && c <= 57) d = c - 48;
      else if (base === 16 && (c | 0x20) >= 97 && (c | 0x20) <= 102) d = (c | 0x20) - 87;
      else break;
      if (d >= base) return null;
      value = value * base + d;
      if (value > 0xffffffff) return null;
    }
    if (i === start && base !== 8) return null; // "0x" with no digits, or an empty part
    parts.push(value);
    if (i === text.length) break;
    if (text.charCodeAt(i) !== 46 /* . */) return null;
    i++;
  }
  const last = parts.length - 1;
  let address = 0;
  for (let p = 0; p < last; p++) {
    if (parts[p]! > 255) return null;
    address = address * 256 + parts[p]!;
  }
  const tailBytes = 4 - last;
  if (parts[last]! >= 2 ** (8 * tailBytes)) return null;
  return address * 2 ** (8 * tailBytes) + parts[last]!;
}

/** Parse a dotted-quad IPv4 address into its four octets, or null. */
export function parseIPv4(text: string): [number, number, number, number] | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const octets: number[] = [];
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    octets.push(n);
  }
  return octets as [number, number, number, number];
}

/** Parse an IPv6 address (optionally bracketed, optionally with an embedded IPv4 tail) into 8 groups. */
export function parseIPv6(text: string): number[] | null {
  let s = text;
  if (s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1);
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  if (!s.includes(":")) return null;
  let tail: number[] = [];
  const lastColon = s.lastIndexOf(":");
  const maybeV4 = s.slice(lastColon + 1);
  if (maybeV4.includes(".")) {
    const v4 = parseIPv4(maybeV4);
    if (!v4) return null;
    tail = [(v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]];
    s = s.slice(0, lastColon + 1) + "0"; // placeholder group, replaced below
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const parseGroups = (h: string) => (h === "" ? [] : h.split(":"));
  const head = parseGroups(halves[0]!);
  const rest = halves.length === 2 ? parseGroups(halves[1]!) : [];
  const groups: number[] = [];
  for (const g of [...head, ...rest]) if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
  const headN = head.map((g) => parseInt(g, 16));
  const restN = rest.map((g) => parseInt(g, 16));
  if (tail.length > 0) {
    // The placeholder "0" stands where the IPv4 tail goes: drop it, append the two tail groups.
    if (halves.length === 2 && rest.length > 0) restN.pop();
    else headN.pop();
  }
  const explicit = headN.length + restN.length + tail.length;
  if (halves.length === 2) {
    if (explicit > 7) return null;
    groups.push(...headN, ...new Array<number>(8 - explicit).fill(0), ...restN, ...tail);
  } else {
    if (explicit !== 8) return null;
    groups.push(...headN, ...tail);
  }
  return groups;
}

/** True only for addresses that certainly mean "this network namespace's loopback". */
export function isLoopbackHost(host: string): boolean {
  return classifyHost(host) === "loopback";
}

const MAX_HOST_LENGTH = 1024;

/** classifyHost is pure and hosts repeat (127.0.0.1, localhost, ""): remember answers. */
const classified = new Map<string, HostClass>();

export function classifyHost(raw: string): HostClass {
  let answer = classified.get(raw);
  if (answer === undefined) {
    answer = classifyHostUncached(raw);
    if (classified.size > 1024) classified.clear();
    classified.set(raw, answer);
  }
  return answer;
}

/**
 * The hosts nearly every bind spells, classified at module load: the build runs
 * it before the snapshot, so each request starts with them known (parsing an
 * address is a character loop, ~100K wasm instructions in QuickJS).
 */
const COMMON_HOSTS = ["127.0.0.1", "0.0.0.0", "localhost", "", "::", "[::]", "::1", "[::1]", "*"];
for (let i = 0; i < COMMON_HOSTS.length; i++) classifyHost(COMMON_HOSTS[i]!);

function classifyHostUncached(raw: string): HostClass {
  if (raw.length > MAX_HOST_LENGTH) return "unknown"; // no DNS name or address is this long
  const host = raw.trim().toLowerCase();
  if (host.includes("$(") || host.includes("${")) return "unknown";
  if (ALL_INTERFACE_NAMES.has(host)) return "all-interfaces";
  if (LOOPBACK_NAMES.has(host)) return "loopback";
  const v4 = parseInetAton(host);
  if (v4 !== null) return v4 >>> 24 === 127 ? "loopback" : v4 === 0 ? "all-interfaces" : "other";
  const v6 = parseIPv6(host);
  if (v6) {
    if (v6.every((g) => g === 0)) return "all-interfaces";
    const isV6Loopback = v6.slice(0, 7).every((g) => g === 0) && v6[7] === 1;
    // ::ffff:127.x.y.z — an IPv4-mapped loopback address
    const isMappedLoopback = v6.slice(0, 5).every((g) => g === 0) && v6[5] === 0xffff && v6[6]! >> 8 === 127;
    return isV6Loopback || isMappedLoopback ? "loopback" : "other";
  }
  if (/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(host)) return "other"; // a hostname: not provably loopback
  return "unknown";
}

/** How to write the host inside a URL: IPv6 literals in brackets. */
export function hostForUrl(host: string): string {
  const h = host.trim();
  if (h.startsWith("[")) return h;
  return h.includes(":") ? `[${h}]` : h;
}
