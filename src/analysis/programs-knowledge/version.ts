/**
 * Versions read from image tags, for defaults that changed across releases
 * (OPA's `localhost:8181` from 1.0).
 */

/** major, minor, patch from a tag such as `v1.2.3`, `1.2`, `3.6.0-rootless`; null for `latest`, digests and the like. */
export type Version = readonly [number, number, number];

export function parseVersion(text: string): Version | null {
  let i = text.charCodeAt(0) === 118 /* v */ ? 1 : 0;
  const parts: number[] = [];
  while (parts.length < 3) {
    const start = i;
    let n = 0;
    while (i < text.length && i - start < 6) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      n = n * 10 + (c - 48);
      i++;
    }
    if (i === start) break;
    parts.push(n);
    if (text.charCodeAt(i) !== 46 /* . */) break;
    i++;
  }
  if (parts.length === 0) return null;
  return [parts[0]!, parts[1] ?? 0, parts[2] ?? 0];
}

/** a >= b */
export function versionAtLeast(a: Version, b: Version): boolean {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return true;
}
