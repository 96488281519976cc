import { describe, expect, it } from "vitest";
import type { DashboardPanel, PluginRecord, UserInfo } from "@/api/types";
import { isCurrent, navigation, panelPath } from "./nav";

const plugin = (name: string, status: PluginRecord["status"] = "loaded") => ({ name, status }) as PluginRecord;
const user = (scopes: string[]): UserInfo => ({ username: "u", role: "r", scopes, method: "session" });
const panel = (plugin: string, id: string, title: string) => ({ plugin, id, title, kind: "table", scope: "" }) as DashboardPanel;

describe("navigation", () => {
  it("lists a plugin's pages only when it is loaded and the user holds the scope", () => {
    const labels = (scopes: string[], plugins: PluginRecord[]) => navigation(user(scopes), plugins, []).flatMap((s) => s.items.map((i) => i.label));
    expect(labels(["*"], [plugin("pm2"), plugin("vps", "failed")])).toContain("Processes");
    expect(labels(["*"], [plugin("pm2"), plugin("vps", "failed")])).not.toContain("Servers");
    expect(labels(["metrics:read"], [plugin("pm2")])).toEqual(["Overview"]);
  });
  it("gives a plugin without pages one entry for its panels, and none to plugins with pages", () => {
    const panels = [panel("pm2", "pm2-processes", "PM2"), panel("book_shelf", "books", "Books"), panel("book_shelf", "loans", "Loans")];
    const sections = navigation(user(["*"]), [plugin("pm2"), plugin("book_shelf")], panels);
    const plugins = sections.find((s) => s.title === "Plugins");
    expect(plugins?.items).toEqual([{ href: "/plugins/book_shelf", label: "Book shelf", scope: "", plugin: "book_shelf" }]);
    expect(sections.at(-1)?.title).toBe("Admin");
  });
  it("addresses a plugin's panels, and each panel, encoded", () => {
    expect(panelPath({ plugin: "my shelf", id: "a/b" })).toBe("/plugins/my%20shelf/a%2Fb");
    expect(panelPath({ plugin: "shelf" })).toBe("/plugins/shelf");
  });
  it("marks the entry of the page shown, not a shorter one", () => {
    const all = ["/", "/marketplace", "/marketplace/installed", "/containers"];
    expect(isCurrent("/marketplace", "/marketplace/installed", all)).toBe(false);
    expect(isCurrent("/marketplace/installed", "/marketplace/installed", all)).toBe(true);
    expect(isCurrent("/marketplace", "/marketplace/casaos%3Aecho", all)).toBe(true);
    expect(isCurrent("/containers", "/containers/abc", all)).toBe(true);
    expect(isCurrent("/", "/containers", all)).toBe(false);
  });
});
