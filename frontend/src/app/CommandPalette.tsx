/**
 * Ctrl-K: jump to any page, container, process or server by typing part of its name
 * (cmdk: fuzzy filtering, arrow keys, Enter). Loaded the first time it opens.
 */
import { Command } from "cmdk";
import { useLocation } from "wouter";
import { useContainers } from "@/features/docker/api";
import { useProcesses } from "@/features/pm2/api";
import { useServers } from "@/features/vps/api";
import type { NavSection } from "./nav";

interface Target {
  key: string;
  label: string;
  hint: string;
  href: string;
}

/** The things the palette offers besides pages, from the lists the user may read. */
function useTargets(sections: NavSection[], open: boolean): { group: string; items: Target[] }[] {
  const hrefs = new Set(sections.flatMap((s) => s.items.map((i) => i.href)));
  const containers = useContainers(undefined, open && hrefs.has("/containers"));
  const processes = useProcesses(open && hrefs.has("/processes"));
  const servers = useServers(open && hrefs.has("/servers"));
  const names = new Set<string>();
  return [
    {
      group: "Containers",
      items: (containers.data ?? []).map((c) => ({ key: `c:${c.id}`, label: c.name, hint: `${c.image} · ${c.state}`, href: `/containers/${c.id.slice(0, 12)}` })),
    },
    {
      group: "Processes",
      items: (processes.data ?? [])
        .filter((p) => !names.has(p.name) && names.add(p.name))
        .map((p) => ({ key: `p:${p.name}`, label: p.name, hint: `${p.status} · ${p.instances} instance${p.instances === 1 ? "" : "s"}`, href: `/processes/${encodeURIComponent(p.name)}` })),
    },
    {
      group: "Servers",
      items: (servers.data ?? []).map((s) => ({ key: `s:${s.name}`, label: s.name, hint: `${s.user}@${s.host}${s.tags.length ? ` · ${s.tags.join(", ")}` : ""}`, href: `/servers/${encodeURIComponent(s.name)}` })),
    },
  ];
}

const ITEM = "flex cursor-pointer items-baseline gap-2 rounded px-2 py-1.5 text-sm data-[selected=true]:bg-sky-100 data-[selected=true]:text-sky-900 dark:data-[selected=true]:bg-sky-900 dark:data-[selected=true]:text-sky-100";
const HEADING = "[&_[cmdk-group-heading]]:px-2 [&_[cmdk-group-heading]]:pt-2 [&_[cmdk-group-heading]]:text-xs [&_[cmdk-group-heading]]:font-semibold [&_[cmdk-group-heading]]:uppercase [&_[cmdk-group-heading]]:text-slate-600 dark:[&_[cmdk-group-heading]]:text-slate-400";

export default function CommandPalette({ open, onOpenChange, sections }: { open: boolean; onOpenChange: (open: boolean) => void; sections: NavSection[] }) {
  const [, navigate] = useLocation();
  const targets = useTargets(sections, open);
  const go = (href: string) => {
    onOpenChange(false);
    navigate(href);
  };
  return (
    <Command.Dialog
      open={open}
      onOpenChange={onOpenChange}
      label="Go to"
      overlayClassName="fixed inset-0 z-40 bg-black/40"
      contentClassName="fixed left-1/2 top-[12vh] z-50 w-[95vw] max-w-xl -translate-x-1/2 overflow-hidden rounded-lg border border-slate-200 bg-white shadow-xl dark:border-slate-700 dark:bg-slate-900"
    >
      <Command.Input placeholder="Go to a page, container, process or server…" aria-label="Go to" className="w-full border-b border-slate-200 bg-transparent px-3 py-2 text-sm outline-none dark:border-slate-700" />
      <Command.List aria-label="Places" className={`max-h-[60vh] overflow-auto p-1 ${HEADING}`}>
        <Command.Empty className="px-3 py-4 text-sm text-slate-600 dark:text-slate-400">Nothing matches.</Command.Empty>
        <Command.Group heading="Pages">
          {sections.flatMap((s) =>
            s.items.map((item) => (
              <Command.Item key={item.href} value={`page ${s.title} ${item.label} ${item.href}`} onSelect={() => go(item.href)} className={ITEM}>
                <span>{item.label}</span>
                <span className="text-xs text-slate-600 dark:text-slate-400">{s.title || "Home"}</span>
              </Command.Item>
            )),
          )}
        </Command.Group>
        {targets.map((t) =>
          t.items.length ? (
            <Command.Group key={t.group} heading={t.group}>
              {t.items.map((item) => (
                <Command.Item key={item.key} value={`${t.group} ${item.label} ${item.key}`} onSelect={() => go(item.href)} className={ITEM}>
                  <span className="font-medium">{item.label}</span>
                  <span className="truncate text-xs text-slate-600 dark:text-slate-400">{item.hint}</span>
                </Command.Item>
              ))}
            </Command.Group>
          ) : null,
        )}
      </Command.List>
    </Command.Dialog>
  );
}
