/**
 * Where a person can go: the pages of the core and of each loaded plugin they may use, and a
 * page per dashboard panel of a plugin that ships no pages of its own. The side navigation,
 * the phone menu and the command palette all read this one list.
 */
import { useMemo } from "react";
import { usePanels, usePlugins } from "@/api/queries";
import { hasScope, useUser } from "@/api/session";
import type { DashboardPanel, PluginRecord, UserInfo } from "@/api/types";

export interface NavItem {
  href: string;
  label: string;
  scope: string;
  /** The plugin the page needs loaded (none: a core page). */
  plugin?: string;
}

export interface NavSection {
  title: string;
  items: NavItem[];
}

/** Plugins the dashboard has pages for: their panels are not drawn again as generic pages. */
export const PLUGINS_WITH_PAGES = new Set(["docker", "pm2", "vps", "marketplace", "deploy"]);

const SECTIONS: NavSection[] = [
  { title: "", items: [{ href: "/", label: "Overview", scope: "metrics:read" }] },
  {
    title: "Docker",
    items: [
      { href: "/containers", label: "Containers", scope: "docker:read", plugin: "docker" },
      { href: "/images", label: "Images", scope: "docker:read", plugin: "docker" },
      { href: "/volumes", label: "Volumes", scope: "docker:read", plugin: "docker" },
      { href: "/networks", label: "Networks", scope: "docker:read", plugin: "docker" },
      { href: "/stacks", label: "Stacks", scope: "docker:read", plugin: "docker" },
    ],
  },
  {
    title: "Apps",
    items: [
      { href: "/processes", label: "Processes", scope: "pm2:read", plugin: "pm2" },
      { href: "/marketplace", label: "Marketplace", scope: "marketplace:read", plugin: "marketplace" },
      { href: "/marketplace/installed", label: "Installed apps", scope: "marketplace:read", plugin: "marketplace" },
      { href: "/marketplace/sources", label: "Catalog sources", scope: "marketplace:read", plugin: "marketplace" },
      { href: "/deploy", label: "Deployed apps", scope: "deploy:read", plugin: "deploy" },
    ],
  },
  { title: "Fleet", items: [{ href: "/servers", label: "Servers", scope: "vps:read", plugin: "vps" }] },
  {
    title: "Admin",
    items: [
      { href: "/admin/users", label: "Users", scope: "users:admin" },
      { href: "/admin/roles", label: "Roles", scope: "users:admin" },
      { href: "/admin/tokens", label: "API tokens", scope: "auth:tokens" },
      { href: "/admin/audit", label: "Audit log", scope: "audit:read" },
      { href: "/admin/plugins", label: "Plugins", scope: "status:read" },
      { href: "/terminal", label: "Host terminal", scope: "host:shell" },
    ],
  },
];

/** The address of a plugin's panel page; without a panel, of the page with all its panels. */
export function panelPath(panel: { plugin: string; id?: string }): string {
  const plugin = `/plugins/${encodeURIComponent(panel.plugin)}`;
  return panel.id === undefined ? plugin : `${plugin}/${encodeURIComponent(panel.id)}`;
}

/** "my-plugin" → "My plugin": a plugin's name as a navigation entry. */
export function pluginLabel(name: string): string {
  const words = name.replace(/[-_]+/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The sections `user` sees: pages of loaded plugins they hold the scope for, then one
 * "Plugins" entry for each plugin without pages of its own that has panels they may see
 * (the server sends only those). */
export function navigation(user: UserInfo, plugins: PluginRecord[], panels: DashboardPanel[]): NavSection[] {
  const loaded = new Set(plugins.filter((p) => p.status === "loaded").map((p) => p.name));
  const visible = (item: NavItem) => hasScope(user, item.scope) && (!item.plugin || loaded.has(item.plugin));
  const sections = SECTIONS.map((s) => ({ title: s.title, items: s.items.filter(visible) }));
  const others = [...new Set(panels.map((p) => p.plugin))].filter((name) => !PLUGINS_WITH_PAGES.has(name) && loaded.has(name));
  const extra = others.map((name) => ({ href: panelPath({ plugin: name }), label: pluginLabel(name), scope: "", plugin: name }));
  sections.splice(sections.length - 1, 0, { title: "Plugins", items: extra });
  return sections.filter((s) => s.items.length > 0);
}

/** Whether the link `href` is the page at `location` (or a page under it, e.g. a container). */
export function isCurrent(href: string, location: string, all: string[]): boolean {
  if (href === "/") return location === "/";
  if (location === href) return true;
  // "/marketplace" is not current on "/marketplace/installed", which has its own entry.
  const longer = all.filter((h) => h.length > href.length && (location === h || location.startsWith(`${h}/`)));
  return longer.length === 0 && location.startsWith(`${href}/`);
}

/** The navigation of the logged-in user (empty sections left out). */
export function useNavigation(): NavSection[] {
  const user = useUser();
  const plugins = usePlugins();
  const panels = usePanels();
  return useMemo(() => navigation(user, plugins.data ?? [], panels.data ?? []), [user, plugins.data, panels.data]);
}
