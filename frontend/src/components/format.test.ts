import { describe, expect, it } from "vitest";
import { bytes, duration, percent, shortId } from "./format";

describe("format", () => {
  it("reads bytes in binary units", () => {
    expect(bytes(0)).toBe("0 B");
    expect(bytes(1536)).toBe("1.50 KB");
    expect(bytes(5 * 1024 ** 3)).toBe("5.00 GB");
    expect(bytes(undefined)).toBe("–");
  });
  it("reads durations in their two largest units", () => {
    expect(duration(42)).toBe("42s");
    expect(duration(3 * 3600 + 120)).toBe("3h 2m");
    expect(duration(2 * 86400 + 5 * 3600)).toBe("2d 5h");
  });
  it("reads percentages and ids", () => {
    expect(percent(12.345)).toBe("12.3 %");
    expect(shortId("sha256:0123456789abcdef")).toBe("0123456789ab");
  });
});
