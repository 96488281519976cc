import { describe, expect, it } from "vitest";
import { latest } from "./TimeChart";

describe("chart legends", () => {
  it("read the newest number of a column", () => {
    expect(latest([1, 2, 3])).toBe(3);
    expect(latest([1, 2, NaN, null])).toBe(2);
    expect(latest([])).toBeNull();
  });
});
