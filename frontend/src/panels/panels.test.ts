import { describe, expect, it } from "vitest";
import { compact, fillPath, fillText, formatCell, pick, rowName } from "./Panel";

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

describe("panel actions", () => {
  it("name the row they act on and fill its fields into the confirmation", () => {
    expect(rowName({ name: "web", id: 3 }, [])).toBe("web");
    expect(rowName({ key: "k1" }, [{ field: "key", title: "Key", format: "text" }])).toBe("k1");
    expect(fillText("Remove server {name} and its credentials?", { name: "db-1" })).toBe("Remove server db-1 and its credentials?");
  });
});

describe("chart figures", () => {
  it("are short on an axis", () => {
    expect(compact(3222274048)).toBe("3.2B");
    expect(compact(1234)).toBe("1234");
    expect(compact(0.256)).toBe("0.26");
  });
});
