/** The frame around every page: navigation on the left, the user and log-out on top. */
import type { ReactNode } from "react";
import { Link, useLocation } from "wouter";
import { usePluginLoaded } from "@/api/queries";
import { hasScope, useLogOut, useUser } from "@/api/session";
import { Button } from "@/components/ui";
import { preloadPage } from "./pages";

interface NavItem {
  href: string;
  label: string;
  scope: string;
  plugin?: string;
}

const SECTIONS: { title: string; items: NavItem[] }[] = [
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

function NavLink({ item }: { item: NavItem }) {
  const [location] = useLocation();
  const active = item.href === "/" ? location === "/" : location.startsWith(item.href);
  return (
    <Link
      href={item.href}
      onMouseEnter={() => preloadPage(item.href)}
      onFocus={() => preloadPage(item.href)}
      aria-current={active ? "page" : undefined}
      className={`block rounded px-2 py-1 text-sm ${active ? "bg-sky-100 font-medium text-sky-900 dark:bg-sky-900 dark:text-sky-100" : "hover:bg-slate-200 dark:hover:bg-slate-800"}`}
    >
      {item.label}
    </Link>
  );
}

export function Shell({ children }: { children: ReactNode }) {
  const user = useUser();
  const logOut = useLogOut();
  const docker = usePluginLoaded("docker");
  const visible = (item: NavItem) =>
    hasScope(user, item.scope) && (item.plugin !== "docker" || docker);
  return (
    <div className="flex min-h-screen">
      <nav aria-label="Main" className="w-44 shrink-0 border-r border-slate-200 bg-white p-2 dark:border-slate-800 dark:bg-slate-900">
        <Link href="/" className="mb-3 block px-2 text-base font-bold text-sky-700 dark:text-sky-400">
          SkyPort
        </Link>
        {SECTIONS.map((section) => {
          const items = section.items.filter(visible);
          if (!items.length) return null;
          return (
            <div key={section.title} className="mb-3">
              {section.title ? <p className="px-2 pb-1 text-xs font-semibold uppercase text-slate-500">{section.title}</p> : null}
              {items.map((item) => (
                <NavLink key={item.href} item={item} />
              ))}
            </div>
          );
        })}
      </nav>
      <div className="flex min-w-0 flex-1 flex-col">
        <header className="flex items-center justify-end gap-3 border-b border-slate-200 bg-white px-4 py-1.5 text-sm dark:border-slate-800 dark:bg-slate-900">
          <span>
            <span className="font-medium">{user.username}</span>{" "}
            <span className="text-slate-500">({user.role})</span>
          </span>
          <Button small onClick={() => void logOut()}>
            Log out
          </Button>
        </header>
        <main className="min-w-0 flex-1 p-4">{children}</main>
      </div>
    </div>
  );
}
