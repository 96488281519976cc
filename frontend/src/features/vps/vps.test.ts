import { describe, expect, it } from "vitest";
import { credentialsOf, whereOf } from "./AddServerDialog";
import { inside, parentOf } from "./FileBrowser";
import { foldRun, outcome, settled } from "./RunCommand";
import { serverFigures } from "./ServerPage";
import { healthText } from "./ServersPage";
import type { HostResult, RunJob } from "./api";

function form(fields: Record<string, string>): FormData {
  const data = new FormData();
  for (const [key, value] of Object.entries(fields)) data.set(key, value);
  return data;
}

const result = (server: string, more: Partial<HostResult> = {}): HostResult => ({
  server,
  ok: true,
  exit_code: 0,
  stdout: "up 3 days\n",
  stderr: "",
  duration: 0.12,
  error: null,
  reason: null,
  truncated: false,
  ...more,
});

describe("adding a server", () => {
  it("checks where it is before reading its host key", () => {
    expect(whereOf(form({ name: "web-1", host: "10.0.0.5", port: "", user: "", tags: "web, eu", jump: "" })).where).toEqual({
      name: "web-1",
      host: "10.0.0.5",
      port: 22,
      user: "root",
      jump: null,
      tags: ["web", "eu"],
    });
    expect(Object.keys(whereOf(form({ name: "all", host: "a b", port: "70000" })).problems ?? {}).sort()).toEqual(["host", "name", "port"]);
  });
  it("sends one way to log in", () => {
    expect(credentialsOf(form({ auth: "private_key", private_key: "KEY", passphrase: "" }))).toEqual({ private_key: "KEY" });
    expect(credentialsOf(form({ auth: "private_key", private_key: "KEY", passphrase: "pw" }))).toEqual({ private_key: "KEY", passphrase: "pw" });
    expect(credentialsOf(form({ auth: "password", password: "s3cret" }))).toEqual({ password: "s3cret" });
    expect(credentialsOf(form({ auth: "agent" }))).toEqual({ agent: true });
  });
});

describe("the file browser", () => {
  it("goes up from absolute and home-relative folders", () => {
    expect(parentOf("/srv/app/")).toBe("/srv");
    expect(parentOf("/srv")).toBe("/");
    expect(parentOf("/")).toBe("/");
    expect(parentOf(".")).toBe("..");
    expect(parentOf("..")).toBe("../..");
    expect(parentOf("logs")).toBe(".");
    expect(parentOf("./logs/old")).toBe("./logs");
  });
  it("names a file inside a folder", () => {
    expect(inside("/srv", "a.txt")).toBe("/srv/a.txt");
    expect(inside("/", "a.txt")).toBe("/a.txt");
  });
});

describe("a run's output", () => {
  it("collects each server's chunks, then its result", () => {
    let shown = foldRun({}, { server: "web-1", stream: "stdout", data: "up " });
    shown = foldRun(shown, { server: "web-1", stream: "stderr", data: "warning" });
    shown = foldRun(shown, { server: "web-1", result: result("web-1") });
    expect(shown["web-1"].chunks.map((c) => c.stream)).toEqual(["stdout", "stderr"]);
    expect(shown["web-1"].result?.exit_code).toBe(0);
  });
  it("is settled by the run's answer, every server in order", () => {
    const job = { id: "j", command: "uptime", servers: ["b", "a"], started: 0, finished: 1, ok: false, results: { a: result("a"), b: result("b", { ok: false, exit_code: null, reason: "timeout", error: "no answer in 5 s", stdout: "" }) } } as RunJob;
    const shown = settled(job);
    expect(Object.keys(shown)).toEqual(["b", "a"]);
    expect(outcome(shown.b.result!)).toBe("timeout: no answer in 5 s");
    expect(outcome(shown.a.result!)).toBe("exit 0");
    expect(shown.a.chunks).toEqual([{ stream: "stdout", text: "up 3 days\n" }]);
  });
});

describe("server metrics", () => {
  const sample = { up: 1, down: 1, servers: [{ name: "web-1", up: true, cpu_percent: 5, memory_percent: 40, disk_percent: 70, load1: 0.3 }, { name: "db-1", up: false, error: "connection refused" }] };
  it("chart one server's figures, none while it is down", () => {
    expect(serverFigures(sample, "web-1")).toEqual([5, 40, 70, 0.3]);
    expect(serverFigures(sample, "db-1")).toEqual([null, null, null, null]);
  });
  it("read as health", () => {
    expect(healthText(sample.servers[0] as never)).toBe("CPU 5.0 % · memory 40.0 % · disk 70.0 %");
    expect(healthText(sample.servers[1] as never)).toBe("connection refused");
    expect(healthText(undefined)).toBe("not sampled yet");
  });
});
