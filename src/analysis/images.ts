/**
 * Whether a container image can run the rewrite's `sh -c` exec probe.
 *
 * An exec probe runs inside the probed container: with no `sh` it fails on every
 * attempt (a liveness probe then restart-loops the pod, exactly what the rewrite
 * meant to prevent). The lists below come from real manifests (see the policy
 * README); anything else is "unknown", and the rewrite's warning says what the
 * probe needs in the image.
 */

export type ShellVerdict = "shell" | "no-shell" | "unknown";

/** Images known to ship no shell: distroless/static, ko-built, most Kubernetes-project images. */
export const BUILTIN_IMAGES_WITHOUT_SHELL: readonly string[] = [
  "gcr.io/distroless/*",
  "ko://*",
  "*/ko/*",
  "registry.k8s.io/*",
  "k8s.gcr.io/*",
  "quay.io/brancz/kube-rbac-proxy*",
  "gcr.io/kubebuilder/kube-rbac-proxy*",
  "cgr.dev/chainguard/*",
];

/**
 * Images known to have `sh` plus busybox `wget` (or curl). Checked first, so
 * these carve exceptions out of the list above (Chainguard's `-dev` variants,
 * the Kubernetes e2e images built on busybox/alpine).
 */
export const BUILTIN_IMAGES_WITH_SHELL: readonly string[] = [
  "quay.io/prometheus/*",
  "quay.io/prometheus-operator/prometheus-config-reloader*",
  "quay.io/thanos/thanos*",
  "cgr.dev/chainguard/*-dev",
  "cgr.dev/chainguard/*-dev@*",
  "registry.k8s.io/e2e-test-images/*",
  "registry.k8s.io/busybox*",
  "busybox*",
  "docker.io/library/busybox*",
  "docker.io/busybox*",
];

/**
 * `*`-glob match (a `*` matches any run of characters, everything else is
 * literal) without a regex and without backtracking: the first segment is a
 * prefix, the last a suffix, and the ones between are found leftmost-first,
 * which is exact for `*`-only globs. Cost ≤ |text| × |pattern|, and patterns
 * are short (settings are length-limited by their schema).
 */
export function globMatch(pattern: string, text: string): boolean {
  const star = pattern.indexOf("*");
  if (star < 0) return pattern === text;
  const segments = pattern.split("*");
  const first = segments[0]!;
  const last = segments[segments.length - 1]!;
  if (first.length + last.length > text.length) return false;
  if (!text.startsWith(first) || !text.endsWith(last)) return false;
  let at = first.length;
  const end = text.length - last.length;
  for (let i = 1; i < segments.length - 1; i++) {
    const seg = segments[i]!;
    if (seg === "") continue;
    const found = text.indexOf(seg, at);
    if (found < 0 || found + seg.length > end) return false;
    at = found + seg.length;
  }
  return true;
}

export interface ImageLists {
  /** Extra patterns for images with a shell (settings `imagesWithShell`); checked first. */
  withShell: readonly string[];
  /** Extra patterns for images without a shell (settings `imagesWithoutShell`). */
  withoutShell: readonly string[];
}

export const NO_EXTRA_IMAGES: ImageLists = { withShell: [], withoutShell: [] };

function anyMatch(patterns: readonly string[], image: string): string | null {
  for (let i = 0; i < patterns.length; i++) if (globMatch(patterns[i]!, image)) return patterns[i]!;
  return null;
}

/**
 * The image without a leading `docker.io/library/`-style default and with the
 * registry as written: patterns are matched against the reference as written
 * and, for Docker Hub short names, also against `docker.io/library/<name>`.
 */
export function shellVerdict(image: string, extra: ImageLists = NO_EXTRA_IMAGES): { verdict: ShellVerdict; pattern?: string } {
  const candidates = [image];
  const firstSlash = image.indexOf("/");
  const firstPart = firstSlash < 0 ? "" : image.slice(0, firstSlash);
  const hasRegistry = firstPart.indexOf(".") >= 0 || firstPart.indexOf(":") >= 0 || firstPart === "localhost" || image.startsWith("ko://");
  if (!hasRegistry && image !== "") candidates.push(firstSlash < 0 ? `docker.io/library/${image}` : `docker.io/${image}`);
  const lists: [readonly string[], ShellVerdict][] = [
    [extra.withShell, "shell"],
    [extra.withoutShell, "no-shell"],
    [BUILTIN_IMAGES_WITH_SHELL, "shell"],
    [BUILTIN_IMAGES_WITHOUT_SHELL, "no-shell"],
  ];
  for (let l = 0; l < lists.length; l++)
    for (let c = 0; c < candidates.length; c++) {
      const pattern = anyMatch(lists[l]![0], candidates[c]!);
      if (pattern !== null) return { verdict: lists[l]![1], pattern };
    }
  return { verdict: "unknown" };
}
