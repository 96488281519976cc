import { describe, expect, it } from "vitest";
import { fillPath, formatCell, pick } from "./PanelList";

describe("declarative panels", () => {
  it("fills an action's path from the row, encoded", () => {
    expect(fillPath("/pm2/processes/{name}/restart", { name: "web api" })).toBe("/pm2/processes/web%20api/restart");
    expect(fillPath("/docker/containers/{id}?force=true", { id: "abc" })).toBe("/docker/containers/abc?force=true");
  });
  it("reads a figure at a dotted path of a sample", () => {
    expect(pick({ memory: { percent: 42 } }, "memory.percent")).toBe(42);
    expect(pick({ memory: null }, "memory.percent")).toBeNull();
  });
  it("formats cells as the column says", () => {
    expect(formatCell(2048, "bytes")).toBe("2.00 KB");
    expect(formatCell(null, "text")).toBe("–");
    expect(formatCell({ a: 1 }, "text")).toBe('{"a":1}');
  });
});
