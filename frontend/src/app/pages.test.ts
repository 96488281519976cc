import { describe, expect, it } from "vitest";
import { matches, PAGES } from "./pages";

describe("pages loaded on demand", () => {
  it("match their addresses and no others", () => {
    expect(matches("/containers/:id", "/containers/web")).toBe(true);
    expect(matches("/containers/:id", "/containers/web/logs")).toBe(false);
    expect(matches("/containers", "/containers/")).toBe(true);
    expect(matches("/images", "/imagesx")).toBe(false);
  });
  it("cover every address of the issue's parts 1 and 2", () => {
    const paths = PAGES.map((p) => p.path);
    for (const path of ["/containers", "/containers/:id", "/images", "/volumes", "/networks", "/stacks", "/admin/users", "/admin/roles", "/admin/tokens", "/admin/audit", "/admin/plugins", "/terminal",
      "/processes", "/processes/:name", "/plugins/:plugin", "/plugins/:plugin/:panel"]) {
      expect(paths).toContain(path);
    }
  });
});
