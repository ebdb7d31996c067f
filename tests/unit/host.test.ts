import { describe, expect, it } from "vitest";
import { classifyHost, hostForUrl, isLoopbackHost, parseIPv6 } from "../../src/analysis/host.js";
import { parseHostPort, parseListenValue, parseUrls } from "../../src/analysis/listen-address.js";

describe("classifyHost", () => {
  it.each(["127.0.0.1", "127.1.2.3", "127.255.255.254", "localhost", "LOCALHOST", "ip6-localhost", "ip6-loopback", "::1", "[::1]", "0:0:0:0:0:0:0:1", "0000::0001", "::ffff:127.0.0.1", "[::ffff:127.0.0.5]", "::ffff:7f00:1"])(
    "%s is loopback",
    (h) => {
      expect(classifyHost(h)).toBe("loopback");
      expect(isLoopbackHost(h)).toBe(true);
    },
  );
  it.each(["", "0.0.0.0", "::", "[::]", "0:0:0:0:0:0:0:0", "*"])("%j is all interfaces", (h) => expect(classifyHost(h)).toBe("all-interfaces"));
  it.each(["10.0.0.1", "128.0.0.1", "::2", "fe80::1", "::ffff:10.0.0.1", "my-service.default.svc", "126.0.0.1"])("%s is other", (h) =>
    expect(classifyHost(h)).toBe("other"),
  );
  it.each(["$(POD_IP)", "${HOST}", "1.2.3.4.5:", "[::1"])("%s is unknown or not loopback", (h) => expect(isLoopbackHost(h)).toBe(false));
  it("never calls malformed addresses loopback", () => {
    expect(isLoopbackHost("127.0.0.256")).toBe(false);
    expect(isLoopbackHost("1:2:3:4:5:6:7:8:9")).toBe(false);
    expect(parseIPv6("1::2::3")).toBeNull();
  });
  it("brackets IPv6 for URLs", () => {
    expect(hostForUrl("::1")).toBe("[::1]");
    expect(hostForUrl("[::1]")).toBe("[::1]");
    expect(hostForUrl("127.0.0.1")).toBe("127.0.0.1");
  });
});

describe("listen values", () => {
  it.each([
    ["127.0.0.1:8080", { host: "127.0.0.1", port: 8080 }],
    ["localhost:8080", { host: "localhost", port: 8080 }],
    ["[::1]:9090", { host: "[::1]", port: 9090 }],
    [":8081", { host: "", port: 8081 }],
    ["8081", { host: "", port: 8081 }],
    ["127.0.0.1", { host: "127.0.0.1", port: null }],
    ["::1", { host: "::1", port: null }],
    ["0.0.0.0:99999", { host: "0.0.0.0", port: null }],
  ])("parseHostPort(%j)", (value, expected) => expect(parseHostPort(value)).toEqual(expected));
  it("reads URL lists with scheme default ports", () => {
    expect(parseUrls("http://127.0.0.1:2381,https://10.0.0.1")).toEqual([
      { host: "127.0.0.1", port: 2381 },
      { host: "10.0.0.1", port: 443 },
    ]);
    expect(parseUrls("http://localhost:5000;http://+:80")).toEqual([
      { host: "localhost", port: 5000 },
      { host: "", port: 80 },
    ]);
  });
  it("reads URL-looking values as URLs in any form", () => {
    expect(parseListenValue("http://[::1]:8080", "address")).toEqual([{ host: "[::1]", port: 8080 }]);
  });
});
