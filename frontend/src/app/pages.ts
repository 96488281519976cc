/**
 * Pages loaded on demand, without the wait a suspended render costs: the page of the address
 * being opened starts loading at once (beside the log-in check), a page linked from the
 * navigation when the pointer or focus reaches the link; a page already loaded renders at once.
 */
import { createElement, lazy, type ComponentType } from "react";

type Module = { default: ComponentType };

export interface Page {
  path: string;
  component: ComponentType;
  preload: () => Promise<unknown>;
}

function page(path: string, load: () => Promise<Module>): Page {
  let loaded: ComponentType | null = null;
  let loading: Promise<unknown> | null = null;
  const preload = () => (loading ??= load().then((m) => (loaded = m.default)));
  const Lazy = lazy(() => {
    void preload();
    return load();
  });
  const component = (props: object) => createElement(loaded ?? Lazy, props);
  return { path, component, preload };
}

export const PAGES: Page[] = [
  page("/containers", () => import("@/features/docker/ContainersPage")),
  page("/containers/:id", () => import("@/features/docker/ContainerPage")),
  page("/images", () => import("@/features/docker/ImagesPage")),
  page("/volumes", () => import("@/features/docker/VolumesPage")),
  page("/networks", () => import("@/features/docker/NetworksPage")),
  page("/stacks", () => import("@/features/docker/StacksPage")),
  page("/admin/users", () => import("@/features/admin/UsersPage")),
  page("/admin/roles", () => import("@/features/admin/RolesPage")),
  page("/admin/tokens", () => import("@/features/admin/TokensPage")),
  page("/admin/audit", () => import("@/features/admin/AuditPage")),
  page("/admin/plugins", () => import("@/features/admin/PluginsPage")),
  page("/terminal", () => import("@/features/core/TerminalPage")),
  page("/processes", () => import("@/features/pm2/ProcessesPage")),
  page("/processes/:name", () => import("@/features/pm2/ProcessPage")),
  page("/servers", () => import("@/features/vps/ServersPage")),
  page("/servers/:name", () => import("@/features/vps/ServerPage")),
  // before /marketplace/:id, which would match them too (app ids are always <source>:<app>)
  page("/marketplace/installed", () => import("@/features/marketplace/InstalledPage")),
  page("/marketplace/sources", () => import("@/features/marketplace/SourcesPage")),
  page("/marketplace", () => import("@/features/marketplace/MarketplacePage")),
  page("/marketplace/:id", () => import("@/features/marketplace/AppPage")),
  page("/plugins/:plugin", () => import("@/panels/PanelPage")),
  page("/plugins/:plugin/:panel", () => import("@/panels/PanelPage")),
];

/** Whether `location` is an address of `path` (`/containers/:id` matches `/containers/web`). */
export function matches(path: string, location: string): boolean {
  const pattern = path.replace(/:[^/]+/g, "[^/]+");
  return new RegExp(`^${pattern}/?$`).test(location);
}

/** Start loading the page at `location`, if it is one loaded on demand. */
export function preloadPage(location: string): void {
  void PAGES.find((p) => matches(p.path, location))?.preload();
}
