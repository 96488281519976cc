import { describe, expect, it } from "vitest";
import { actionsFor, withEngine, type ContainerStats, type ContainerSummary } from "./api";
import { portsText, visibleRows } from "./ContainersPage";
import { pullPercent, type PullProgress } from "./ImagesPage";
import { items, runRequest } from "./RunDialog";
import { envMapping } from "./StacksPage";
import { joinLog } from "./ContainerLogs";
import { foldStats } from "./stats";

function container(name: string, image: string, state: string, created: number): ContainerSummary {
  return { id: `${name}-id`, name, image, image_id: "", command: "", created, state, status: "", ports: [], labels: {}, networks: [], engine: "local" };
}

describe("the containers table", () => {
  const rows = [container("web", "nginx", "running", 3), container("db", "postgres", "exited", 1), container("cache", "redis", "running", 2)];

  it("filters by name, image or state and sorts either way", () => {
    expect(visibleRows(rows, "", "name", true).map((r) => r.name)).toEqual(["cache", "db", "web"]);
    expect(visibleRows(rows, "", "created", false).map((r) => r.name)).toEqual(["web", "cache", "db"]);
    expect(visibleRows(rows, "running", "name", true).map((r) => r.name)).toEqual(["cache", "web"]);
    expect(visibleRows(rows, "POSTGRES", "name", true).map((r) => r.name)).toEqual(["db"]);
  });

  it("offers the actions a state allows", () => {
    expect(actionsFor("running")).toEqual(["stop", "restart", "pause", "kill"]);
    expect(actionsFor("paused")).toContain("unpause");
    expect(actionsFor("exited")).toEqual(["start", "remove"]);
  });

  it("shows published ports once each", () => {
    const ports = [
      { private: 80, type: "tcp", public: 8080, ip: "0.0.0.0" },
      { private: 80, type: "tcp", public: 8080, ip: "0.0.0.0" },
      { private: 53, type: "udp" },
    ];
    expect(portsText(ports)).toBe("8080→80/tcp, 53/udp");
  });

  it("keeps the engine in links", () => {
    expect(withEngine("/containers/abc", "nas")).toBe("/containers/abc?engine=nas");
    expect(withEngine("/containers/abc", undefined)).toBe("/containers/abc");
  });

  it("keeps recent figures only for running containers", () => {
    const stats = (id: string, cpu: number) => ({ id, cpu_percent: cpu, memory_usage_bytes: cpu * 10 }) as ContainerStats;
    let history = foldStats(new Map(), [stats("a", 1), stats("b", 2)]);
    history = foldStats(history, [stats("a", 3)]);
    expect([...history.keys()]).toEqual(["a"]);
    expect(history.get("a")?.cpu).toEqual([1, 3]);
  });
});

describe("the run form", () => {
  it("sends only what was filled in, in the API's shape", () => {
    const form = new FormData();
    form.set("image", " busybox ");
    form.set("name", "");
    form.set("command", "sleep 60");
    form.set("ports", "8080:80, 53:53/udp");
    form.set("env", "A=1\n\nB=2");
    form.set("cpus", "0.5");
    form.set("pull", "never");
    form.set("tty", "on");
    form.set("labels", "team=ops\nnote=a=b");
    expect(runRequest(form)).toEqual({
      image: "busybox",
      command: "sleep 60",
      ports: ["8080:80", "53:53/udp"],
      env: ["A=1", "B=2"],
      cpus: 0.5,
      labels: { team: "ops", note: "a=b" },
      pull: "never",
      auto_remove: false,
      tty: true,
      stdin_open: true,
    });
    expect(items("  \n ")).toBeUndefined();
  });
});

describe("pulls and stacks", () => {
  const pull = (status: PullProgress["status"], current: number, total: number) => ({ job: "j", image: "i", status, current, total, message: "", error: null });
  it("reads a pull's progress as a percentage", () => {
    expect(pullPercent(pull("pulling", 0, 0))).toBe(0);
    expect(pullPercent(pull("pulling", 50, 200))).toBe(25);
    expect(pullPercent(pull("pulling", 200, 200))).toBe(99);
    expect(pullPercent(pull("done", 0, 0))).toBe(100);
  });
  it("turns .env lines into a mapping, values kept whole", () => {
    expect(envMapping("A=1\nURL=postgres://x?a=b\n")).toEqual({ A: "1", URL: "postgres://x?a=b" });
  });
});

describe("the log", () => {
  it("joins past and followed lines without repeating any", () => {
    const line = (time: string, text: string) => ({ stream: "stdout", line: text, time });
    const past = [line("2026-12-04T10:00:01.000000001Z", "a"), line("2026-12-04T10:00:02.000000001Z", "b")];
    const live = [line("2026-12-04T10:00:02.000000001Z", "b"), line("2026-12-04T10:00:03.000000001Z", "c")];
    expect(joinLog(past, live).map((l) => l.line)).toEqual(["a", "b", "c"]);
    expect(joinLog(past, []).map((l) => l.line)).toEqual(["a", "b"]);
  });
});
