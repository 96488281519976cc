import { describe, expect, it } from "vitest";
import { actionsFor } from "./api";
import { joinOutput } from "./output";
import { visibleProcesses } from "./ProcessesPage";
import { scaleTarget } from "./ScaleDialog";
import { ecosystemRequest, envLines, scriptRequest } from "./StartDialog";

function form(fields: Record<string, string>): FormData {
  const data = new FormData();
  for (const [key, value] of Object.entries(fields)) data.set(key, value);
  return data;
}

describe("the start form", () => {
  it("sends only what was filled in, with the environment as an object", () => {
    const checked = scriptRequest(form({ script: "/srv/app.js", name: "web", instances: "2", env: "PORT=3000\n\n# a note\nMODE=a=b", autorestart: "on" }));
    expect(checked.problems).toBeNull();
    expect(checked.body).toEqual({ script: "/srv/app.js", name: "web", instances: 2, env: { PORT: "3000", MODE: "a=b" }, watch: false, autorestart: true });
  });
  it("says what is wrong before sending anything", () => {
    const checked = scriptRequest(form({ script: "", name: "a/b", instances: "1.5", env: "not a pair" }));
    expect(checked.body).toBeNull();
    expect(Object.keys(checked.problems ?? {}).sort()).toEqual(["env", "instances", "name", "script"]);
  });
  it("reads environment lines and names the bad ones", () => {
    expect(envLines("A=1\n B = 2\n2X=3")).toEqual({ env: { A: "1" }, bad: ["B = 2", "2X=3"] });
  });
  it("takes an ecosystem file by its absolute path only", () => {
    expect(ecosystemRequest(form({ ecosystem: "eco.js" })).problems).toHaveProperty("ecosystem");
    expect(ecosystemRequest(form({ ecosystem: "/srv/eco.js", only: "api, worker", environment: "production" })).body).toEqual({
      ecosystem: "/srv/eco.js",
      only: ["api", "worker"],
      environment: "production",
    });
  });
});

describe("scaling", () => {
  it("takes a count or a change", () => {
    expect(scaleTarget("3")).toBe(3);
    expect(scaleTarget("+2")).toBe("+2");
    expect(scaleTarget("-1")).toBe("-1");
    expect(scaleTarget("two")).toBeNull();
    expect(scaleTarget("")).toBeNull();
  });
});

describe("process output", () => {
  const past = [{ name: "web", pm_id: 0, stream: "out" as const, text: "old" }];
  it("follows the files with what was written after they were read, line by line", () => {
    const live = [
      { name: "web", pm_id: 0, stream: "out" as const, data: "already in the file\n", at: 100 },
      { name: "web", pm_id: 0, stream: "err" as const, data: "one\ntwo\n", at: 101 },
    ];
    expect(joinOutput(past, 100, live).map((l) => [l.stream, l.text])).toEqual([
      ["out", "old"],
      ["err", "one"],
      ["err", "two"],
    ]);
  });
  it("shows live output while the files are still being read", () => {
    expect(joinOutput([], null, [{ name: "web", pm_id: 1, stream: "out", data: "hi", at: 5 }])).toHaveLength(1);
  });
});

describe("the process table", () => {
  const row = { name: "api", pm_id: 4, namespace: "default", status: "online", script: "/srv/api/index.js" } as never;
  it("filters by name, status, script or id", () => {
    expect(visibleProcesses([row], "API")).toHaveLength(1);
    expect(visibleProcesses([row], "online")).toHaveLength(1);
    expect(visibleProcesses([row], "4")).toHaveLength(1);
    expect(visibleProcesses([row], "stopped")).toHaveLength(0);
  });
  it("offers reload only in cluster mode, start only when stopped", () => {
    expect(actionsFor("online", "cluster")).toContain("reload");
    expect(actionsFor("online", "fork")).not.toContain("reload");
    expect(actionsFor("stopped", "fork")).toEqual(["start", "delete"]);
  });
});
