/** Containers: a dense, virtualized, live table with filter, sort, multi-select and actions. */
import { useMutation } from "@tanstack/react-query";
import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useMemo, useRef, useState } from "react";
import { Link } from "wouter";
import { useCan } from "@/api/session";
import { bytes } from "@/components/format";
import { ConfirmDialog } from "@/components/Dialog";
import { BulkBar, runOnEach, useSelection, type Selection } from "@/components/selection";
import { Sparkline } from "@/components/Sparkline";
import { Button, EmptyState, ErrorNote, inputLook, Loading, PageHeader, StateBadge } from "@/components/ui";
import {
  ACTION_LABELS,
  actionsFor,
  containerAction,
  useContainers,
  useDockerEvents,
  useEngine,
  withEngine,
  type ContainerAction,
  type ContainerSummary,
  type PortMapping,
} from "./api";
import { EnginePicker } from "./EnginePicker";
import { RunDialog } from "./RunDialog";
import { useContainerStats, type Recent } from "./stats";

type SortKey = "name" | "image" | "state" | "created";
const ROW_HEIGHT = 36;
const BULK: ContainerAction[] = ["start", "stop", "restart", "pause", "unpause", "kill", "remove"];

export function portsText(ports: PortMapping[]): string {
  return ports
    .map((p) => (p.public ? `${p.ip && p.ip !== "0.0.0.0" ? `${p.ip}:` : ""}${p.public}→${p.private}/${p.type}` : `${p.private}/${p.type}`))
    .filter((v, i, all) => all.indexOf(v) === i)
    .join(", ");
}

/** Rows matching `filter` (name, image, state, id prefix), sorted by `key`. */
export function visibleRows(rows: ContainerSummary[], filter: string, key: SortKey, ascending: boolean): ContainerSummary[] {
  const needle = filter.trim().toLowerCase();
  const kept = needle
    ? rows.filter((c) => c.name.toLowerCase().includes(needle) || c.image.toLowerCase().includes(needle) || c.state === needle || c.id.startsWith(needle))
    : rows;
  const sorted = [...kept].sort((a, b) => (key === "created" ? a.created - b.created : String(a[key]).localeCompare(String(b[key]))));
  return ascending ? sorted : sorted.reverse();
}

export default function ContainersPage() {
  const engine = useEngine();
  const containers = useContainers(engine);
  const eventsError = useDockerEvents();
  const stats = useContainerStats();
  const canWrite = useCan("docker:write");
  const [filter, setFilter] = useState("");
  const [sort, setSort] = useState<{ key: SortKey; ascending: boolean }>({ key: "name", ascending: true });
  const selection = useSelection();
  const [running, setRunning] = useState(false);
  const [confirm, setConfirm] = useState<{ ids: string[]; label: string } | null>(null);
  const filterBox = useRef<HTMLInputElement>(null);
  useEffect(() => {
    // "/" jumps to the filter, as in many dense tools (not while typing elsewhere).
    const onKey = (event: KeyboardEvent) => {
      const typing = event.target instanceof HTMLElement && event.target.closest("input, textarea, select, [contenteditable]");
      if (event.key === "/" && !typing) {
        event.preventDefault();
        filterBox.current?.focus();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
  const rows = useMemo(() => visibleRows(containers.data ?? [], filter, sort.key, sort.ascending), [containers.data, filter, sort]);
  const act = useMutation({
    mutationFn: ({ ids, action }: { ids: string[]; action: ContainerAction }) => runOnEach(ids, (id) => containerAction(id, action, engine)),
    onSettled: () => void containers.refetch(),
  });
  const run = (ids: string[], action: ContainerAction, label: string) => (action === "remove" ? setConfirm({ ids, label }) : act.mutate({ ids, action }));
  const chosen = rows.filter((r) => selection.selected.has(r.id)).map((r) => r.id);

  return (
    <div>
      <PageHeader title="Containers">
        <EnginePicker />
        <input ref={filterBox} aria-label="Filter containers" aria-keyshortcuts="/" placeholder="Filter: name, image, state… ( / )" className={`${inputLook} w-56`} value={filter} onChange={(e) => setFilter(e.target.value)} />
        {canWrite ? (
          <Button variant="primary" onClick={() => setRunning(true)}>
            Run container
          </Button>
        ) : null}
      </PageHeader>
      <ErrorNote error={eventsError} what="Live updates" />
      <ErrorNote error={act.error} what="Action failed" />
      {canWrite ? (
        <BulkBar label="Selected containers" count={chosen.length} actions={BULK} labels={ACTION_LABELS} danger={["remove", "kill"]} onRun={(action) => run(chosen, action, `${chosen.length} containers`)} />
      ) : null}
      {containers.isPending ? (
        <Loading what="Loading containers" />
      ) : containers.error ? (
        <ErrorNote error={containers.error} what="Cannot list containers" />
      ) : rows.length === 0 ? (
        <EmptyState title={filter ? "No container matches the filter." : "No containers yet."}>
          {filter ? "Clear the filter to see them all." : canWrite ? "Run one with “Run container”." : "Ask an operator to run one."}
        </EmptyState>
      ) : (
        <Table rows={rows} stats={stats} canWrite={canWrite} engine={engine} sort={sort} onSort={setSort} selection={selection} onAction={run} busy={act.isPending} />
      )}
      <RunDialog open={running} onOpenChange={setRunning} engine={engine} />
      <ConfirmDialog
        open={confirm !== null}
        onOpenChange={(open) => !open && setConfirm(null)}
        title={`Remove ${confirm?.label ?? ""}?`}
        confirmLabel="Remove"
        onConfirm={() => {
          if (confirm) act.mutate({ ids: confirm.ids, action: "remove" });
          selection.set([]);
        }}
      >
        <p className="text-sm">Running containers are stopped first. Their anonymous volumes stay.</p>
      </ConfirmDialog>
    </div>
  );
}

interface TableProps {
  rows: ContainerSummary[];
  stats: Map<string, Recent>;
  canWrite: boolean;
  engine?: string;
  sort: { key: SortKey; ascending: boolean };
  onSort: (sort: { key: SortKey; ascending: boolean }) => void;
  selection: Selection;
  onAction: (ids: string[], action: ContainerAction, label: string) => void;
  busy: boolean;
}

function Table({ rows, stats, canWrite, engine, sort, onSort, selection, onAction, busy }: TableProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({ count: rows.length, getScrollElement: () => scroller.current, estimateSize: () => ROW_HEIGHT, overscan: 12 });
  const items = virtual.getVirtualItems();
  const before = items.length ? items[0].start : 0;
  const after = items.length ? virtual.getTotalSize() - items[items.length - 1].end : 0;
  const allChosen = rows.length > 0 && rows.every((r) => selection.selected.has(r.id));
  const header = (key: SortKey, title: string) => (
    <th className="px-2 py-1" aria-sort={sort.key === key ? (sort.ascending ? "ascending" : "descending") : "none"}>
      <button type="button" className="font-semibold" onClick={() => onSort({ key, ascending: sort.key === key ? !sort.ascending : true })}>
        {title} {sort.key === key ? (sort.ascending ? "▲" : "▼") : ""}
      </button>
    </th>
  );
  return (
    <div ref={scroller} className="max-h-[calc(100vh-170px)] overflow-auto rounded border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
      <table className="w-full table-fixed text-sm" aria-rowcount={rows.length + 1}>
        <thead className="sticky top-0 z-10 bg-slate-100 text-left text-xs text-slate-600 dark:bg-slate-800 dark:text-slate-300">
          <tr>
            {canWrite ? (
              <th className="w-8 px-2">
                <input type="checkbox" aria-label="Select all containers" checked={allChosen} onChange={() => selection.set(allChosen ? [] : rows.map((r) => r.id))} />
              </th>
            ) : null}
            {header("name", "Name")}
            {header("image", "Image")}
            {header("state", "State")}
            <th className="px-2 py-1">Ports</th>
            <th className="w-40 px-2 py-1">CPU · memory</th>
            {header("created", "Status")}
            {canWrite ? <th className="w-72 px-2 py-1 text-right">Actions</th> : null}
          </tr>
        </thead>
        <tbody>
          {before > 0 ? <tr style={{ height: before }} aria-hidden="true" /> : null}
          {items.map((item) => {
            const c = rows[item.index];
            const recent = stats.get(c.id);
            return (
              <tr key={c.id} data-container={c.name} aria-rowindex={item.index + 2} className="h-9 border-t border-slate-100 hover:bg-slate-50 dark:border-slate-800 dark:hover:bg-slate-800/50">
                {canWrite ? (
                  <td className="px-2">
                    <input type="checkbox" aria-label={`Select ${c.name}`} checked={selection.selected.has(c.id)} onChange={() => selection.toggle(c.id)} />
                  </td>
                ) : null}
                <td className="truncate px-2 font-medium">
                  <Link href={withEngine(`/containers/${c.id.slice(0, 12)}`, engine)} className="text-sky-700 hover:underline dark:text-sky-400">
                    {c.name}
                  </Link>
                </td>
                <td className="truncate px-2 text-slate-600 dark:text-slate-300" title={c.image}>
                  {c.image}
                </td>
                <td className="px-2">
                  <StateBadge state={c.state} />
                </td>
                <td className="truncate px-2 font-mono text-xs" title={portsText(c.ports)}>
                  {portsText(c.ports)}
                </td>
                <td className="whitespace-nowrap px-2 text-xs">
                  {recent ? (
                    <span title={`CPU ${recent.latest.cpu_percent.toFixed(1)} %, memory ${bytes(recent.latest.memory_usage_bytes)}`}>
                      <Sparkline values={recent.cpu} label={`CPU of ${c.name}`} /> <Sparkline values={recent.memory} label={`Memory of ${c.name}`} colour="#8b5cf6" />
                    </span>
                  ) : (
                    <span className="text-slate-600 dark:text-slate-400">–</span>
                  )}
                </td>
                <td className="truncate px-2 text-xs text-slate-600 dark:text-slate-300">{c.status}</td>
                {canWrite ? (
                  <td className="whitespace-nowrap px-2 text-right">
                    {actionsFor(c.state).map((action) => (
                      <Button key={action} small className="ml-1" disabled={busy} variant={action === "remove" || action === "kill" ? "danger" : "default"} aria-label={`${ACTION_LABELS[action]} ${c.name}`} onClick={() => onAction([c.id], action, c.name)}>
                        {ACTION_LABELS[action]}
                      </Button>
                    ))}
                  </td>
                ) : null}
              </tr>
            );
          })}
          {after > 0 ? <tr style={{ height: after }} aria-hidden="true" /> : null}
        </tbody>
      </table>
    </div>
  );
}
