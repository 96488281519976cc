import { describe, expect, it } from "vitest";
import { matches, PAGES } from "./pages";

describe("pages loaded on demand", () => {
  it("match their addresses and no others", () => {
    expect(matches("/containers/:id", "/containers/web")).toBe(true);
    expect(matches("/containers/:id", "/containers/web/logs")).toBe(false);
    expect(matches("/containers", "/containers/")).toBe(true);
    expect(matches("/images", "/imagesx")).toBe(false);
  });
  it("send the marketplace's own pages to them, not to an app", () => {
    const first = (location: string) => PAGES.find((p) => matches(p.path, location))?.path;
    expect(first("/marketplace/installed")).toBe("/marketplace/installed");
    expect(first("/marketplace/casaos%3AEchoer")).toBe("/marketplace/:id");
  });
  it("cover every address of the issue's parts 1 and 2", () => {
    const paths = PAGES.map((p) => p.path);
    for (const path of ["/containers", "/containers/:id", "/images", "/volumes", "/networks", "/stacks", "/admin/users", "/admin/roles", "/admin/tokens", "/admin/audit", "/admin/plugins", "/terminal",
      "/processes", "/processes/:name", "/servers", "/servers/:name", "/marketplace", "/marketplace/:id", "/marketplace/installed", "/marketplace/sources", "/plugins/:plugin", "/plugins/:plugin/:panel"]) {
      expect(paths).toContain(path);
    }
  });
});
