/**
 * The registry client's pure parts: kwctl's annotation rules, strict references,
 * redaction, redirect rules — and the registry test support's install hint.
 */
import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dockerConfigCredentials, ociAnnotations, parseReference, RegistryClient } from "../../src/toolchain/oci.js";
import { followRefusal, printable, redact, tokenCredentialOrigin } from "../../src/toolchain/oci-http.js";
import { dockerRegistryBinary, INSTALL_HINT } from "../support/registry.js";

describe("ociAnnotations, as kwctl push builds them (crates/kwctl/src/push.rs)", () => {
  it("keeps single-line values trimmed, a value ending in one newline without it, and drops multi-line values", () => {
    expect(
      ociAnnotations({
        "io.kubewarden.policy.url": "http://example.com",
        "io.kubewarden.policy.usage": "this is a multi-line\nstring",
        "io.kubewarden.policy.description": "this is a line that ends with a line terminator\n",
        "a.crlf": "windows line\r\n",
        "a.two-newlines": "ends with two\n\n",
        "a.leading-newline": "\nstarts with one",
        "a.spaces": "  padded\t",
        "a.nbsp": "\u00a0non-breaking\u3000",
        "a.bom": "\ufeffkept: Rust's trim does not strip U+FEFF",
        "a.empty": "",
      }),
    ).toEqual({
      "a.bom": "\ufeffkept: Rust's trim does not strip U+FEFF",
      "a.crlf": "windows line",
      "a.empty": "",
      "a.nbsp": "non-breaking",
      "a.spaces": "padded",
      "io.kubewarden.policy.description": "this is a line that ends with a line terminator",
      "io.kubewarden.policy.url": "http://example.com",
    });
  });

  it("takes org.opencontainers.image.source from io.kubewarden.policy.source unless already set", () => {
    expect(ociAnnotations({ "io.kubewarden.policy.source": "example.com\n" })).toEqual({
      "io.kubewarden.policy.source": "example.com",
      "org.opencontainers.image.source": "example.com",
    });
    expect(ociAnnotations({ "io.kubewarden.policy.source": "example.com", "org.opencontainers.image.source": "oci.org" })).toEqual({
      "io.kubewarden.policy.source": "example.com",
      "org.opencontainers.image.source": "oci.org",
    });
    expect(ociAnnotations({ "io.kubewarden.policy.source": "multi\nline" })).toEqual({});
  });

  it("sorts keys as kwctl's BTreeMap serialises them", () => {
    expect(Object.keys(ociAnnotations({ b: "1", B: "2", a: "3", "a.b": "4" }))).toEqual(["B", "a", "a.b", "b"]);
  });
});

describe("parseReference", () => {
  it("parses registry, repository, tag and digest", () => {
    expect(parseReference("registry://h:5000/a/b:v1")).toEqual({ registry: "h:5000", repository: "a/b", tag: "v1" });
    expect(parseReference(`ghcr.io/a/b@sha256:${"a".repeat(64)}`)).toEqual({ registry: "ghcr.io", repository: "a/b", digest: `sha256:${"a".repeat(64)}` });
    expect(parseReference("registry://[::1]:5000/a:v1").registry).toBe("[::1]:5000");
  });

  it("refuses credentials in a reference without repeating them", () => {
    let message = "";
    try {
      parseReference("registry://bob:tops3cret@ghcr.io/a/b:v1");
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain("credentials inside a reference are not accepted");
    expect(message).toContain("registry://***@ghcr.io/a/b:v1");
    expect(message).not.toContain("tops3cret");
    expect(message).not.toContain("bob");
  });

  it("refuses odd hosts, repositories, tags and digests", () => {
    expect(() => parseReference("registry://h/UPPER:v1")).toThrow(/invalid repository/);
    expect(() => parseReference("registry://h")).toThrow(/expected registry/);
    expect(() => parseReference("registry://h_x/a:v1")).toThrow(/invalid registry host/);
    expect(() => parseReference("registry://h/a:v1?x")).toThrow(/invalid tag/);
    expect(() => parseReference("registry://h/a@sha256:../../etc")).toThrow(/invalid digest/);
  });
});

describe("redaction and printable text", () => {
  it("removes userinfo from URLs and every secret", () => {
    expect(redact("see https://u:p@host/x and registry://a@b/c", [])).toBe("see https://***@host/x and registry://***@b/c");
    expect(redact("token abc123 and abc123 again", ["abc123"])).toBe("token *** and *** again");
  });

  it("strips control characters and bidi overrides", () => {
    expect(printable("\u001b[2Jred\u0007 \u202eevil\u202c\n\nnext")).toBe("[2Jred evil next");
  });
});

describe("followRefusal", () => {
  it("allows same-scheme and upgrades, refuses https → http and other schemes", () => {
    expect(followRefusal(new URL("https://a/x"), new URL("https://b/y"))).toBeNull();
    expect(followRefusal(new URL("http://a/x"), new URL("https://a/y"))).toBeNull();
    expect(followRefusal(new URL("https://a/x"), new URL("http://a/y"))).toMatch(/from https to plain http/);
    expect(followRefusal(new URL("https://a/x"), new URL("file:///etc/passwd"))).toMatch(/file:/);
  });
});

describe("tokenCredentialOrigin: credentials to a token service on another host", () => {
  const origin = (registry: string, realm: string, trusted: string[] = []) => tokenCredentialOrigin(new URL(registry), new URL(realm), trusted);
  it("Docker Hub's own token service, for Docker Hub registries only and over https", () => {
    for (const hub of ["docker.io", "index.docker.io", "registry-1.docker.io"]) expect(origin(`https://${hub}/v2/`, "https://auth.docker.io/token")).toBe("https://auth.docker.io");
    expect(origin("https://ghcr.io/v2/", "https://auth.docker.io/token")).toBe("https://ghcr.io");
    expect(origin("https://registry-1.docker.io/v2/", "https://auth.docker.io.evil.example/token")).toBe("https://registry-1.docker.io");
    expect(origin("https://registry-1.docker.io/v2/", "https://auth.docker.io:8443/token")).toBe("https://registry-1.docker.io");
    expect(origin("http://registry-1.docker.io/v2/", "https://auth.docker.io/token")).toBe("http://registry-1.docker.io");
  });
  it("a realm host the user named, by exact host[:port], https only", () => {
    expect(origin("https://registry.example/v2/", "https://auth.example/token", ["auth.example"])).toBe("https://auth.example");
    expect(origin("https://registry.example/v2/", "https://AUTH.example/token", ["auth.EXAMPLE"])).toBe("https://auth.example");
    expect(origin("https://registry.example/v2/", "https://auth.example:8443/token", ["auth.example"])).toBe("https://registry.example");
    expect(origin("https://registry.example/v2/", "https://auth.example:8443/token", ["auth.example:8443"])).toBe("https://auth.example:8443");
    expect(origin("http://registry.example/v2/", "http://auth.example/token", ["auth.example"])).toBe("http://registry.example");
    expect(origin("https://registry.example/v2/", "https://evil.example/token", ["auth.example"])).toBe("https://registry.example");
  });
  it("the registry's own origin always", () => {
    expect(origin("http://127.0.0.1:5000/v2/", "http://127.0.0.1:5000/token")).toBe("http://127.0.0.1:5000");
  });
  it("docker.io references talk to registry-1.docker.io with docker login's credentials", () => {
    expect(new RegistryClient(parseReference("registry://docker.io/me/policy:v1")).base.host).toBe("registry-1.docker.io");
    const dir = mkdtempSync(join(tmpdir(), "lpp-docker-config-"));
    writeFileSync(join(dir, "config.json"), JSON.stringify({ auths: { "https://index.docker.io/v1/": { auth: Buffer.from("me:secret").toString("base64") } } }));
    expect(dockerConfigCredentials("docker.io", dir)).toEqual({ username: "me", password: "secret" });
    expect(dockerConfigCredentials("registry-1.docker.io", dir)).toEqual({ username: "me", password: "secret" });
    expect(dockerConfigCredentials("ghcr.io", dir)).toBeNull();
  });
});

describe("registry test support", () => {
  it("fails at once with the exact install command when docker-registry is missing", () => {
    expect(() => dockerRegistryBinary({ PATH: "/nonexistent" })).toThrow(INSTALL_HINT);
    expect(INSTALL_HINT).toBe("sudo apt-get install -y docker-registry");
  });
});
