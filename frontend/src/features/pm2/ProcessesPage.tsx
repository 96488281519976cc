/** Processes (PM2): a live table with row and bulk actions, scaling, the start form, events. */
import { useMutation } from "@tanstack/react-query";
import { useCallback, useMemo, useState } from "react";
import { Link } from "wouter";
import { useCan } from "@/api/session";
import { DataTable, type Column } from "@/components/DataTable";
import { ConfirmDialog } from "@/components/Dialog";
import { BulkBar, runOnEach, useSelection } from "@/components/selection";
import { bytes, duration, percent } from "@/components/format";
import { Button, Card, EmptyState, ErrorNote, inputLook, Loading, PageHeader, StateBadge } from "@/components/ui";
import { ACTION_LABELS, actionsFor, processAction, useProcesses, usePm2Events, type ProcessAction, type ProcessEvent, type ProcessSummary } from "./api";
import { ScaleDialog } from "./ScaleDialog";
import { StartDialog } from "./StartDialog";

const BULK: ProcessAction[] = ["start", "stop", "restart", "reload", "delete"];
const EVENTS_KEPT = 50;

/** Rows matching `filter` (name, status, namespace, script, or an exact id). */
export function visibleProcesses(rows: ProcessSummary[], filter: string): ProcessSummary[] {
  const needle = filter.trim().toLowerCase();
  if (!needle) return rows;
  return rows.filter(
    (p) => p.name.toLowerCase().includes(needle) || p.status === needle || p.namespace.toLowerCase() === needle || p.script.toLowerCase().includes(needle) || String(p.pm_id) === needle,
  );
}

const COLUMNS: Column<ProcessSummary>[] = [
  { title: "id", render: (p) => p.pm_id, className: "font-mono text-xs" },
  {
    title: "Name",
    className: "font-medium",
    render: (p) => (
      <>
        <Link href={`/processes/${encodeURIComponent(p.name)}`} className="text-sky-700 hover:underline dark:text-sky-400">
          {p.name}
        </Link>
        {p.namespace !== "default" ? <span className="ml-1 text-xs text-slate-600 dark:text-slate-400">({p.namespace})</span> : null}
      </>
    ),
  },
  { title: "Status", render: (p) => <StateBadge state={p.status} /> },
  { title: "Mode", render: (p) => (p.mode === "cluster" ? `cluster × ${p.instances}` : p.instances > 1 ? `fork × ${p.instances}` : "fork"), className: "text-xs" },
  { title: "CPU", render: (p) => percent(p.cpu), className: "font-mono text-xs" },
  { title: "Memory", render: (p) => bytes(p.memory), className: "font-mono text-xs" },
  { title: "Restarts", render: (p) => p.restarts, className: "font-mono text-xs" },
  { title: "Uptime", render: (p) => (p.status === "online" ? duration(p.uptime) : "–"), className: "text-xs" },
];

export default function ProcessesPage() {
  const processes = useProcesses();
  const canWrite = useCan("pm2:write");
  const [events, setEvents] = useState<ProcessEvent[]>([]);
  const onEvent = useCallback((event: ProcessEvent) => setEvents((old) => [event, ...old].slice(0, EVENTS_KEPT)), []);
  const eventsError = usePm2Events(onEvent);
  const [filter, setFilter] = useState("");
  const selection = useSelection();
  const [starting, setStarting] = useState(false);
  const [scaling, setScaling] = useState<ProcessSummary | null>(null);
  const [deleting, setDeleting] = useState<{ ids: string[]; label: string } | null>(null);
  const rows = useMemo(() => visibleProcesses(processes.data ?? [], filter), [processes.data, filter]);
  const act = useMutation({
    mutationFn: ({ ids, action }: { ids: string[]; action: ProcessAction }) => runOnEach(ids, (id) => processAction(id, action)),
    onSettled: () => void processes.refetch(),
  });
  const run = (ids: string[], action: ProcessAction, label: string) => (action === "delete" ? setDeleting({ ids, label }) : act.mutate({ ids, action }));
  const chosen = rows.map((r) => String(r.pm_id)).filter((id) => selection.selected.has(id));

  return (
    <div>
      <PageHeader title="Processes">
        <input aria-label="Filter processes" placeholder="Filter: name, status, id…" className={`${inputLook} w-48`} value={filter} onChange={(e) => setFilter(e.target.value)} />
        {canWrite ? (
          <Button variant="primary" onClick={() => setStarting(true)}>
            Start process
          </Button>
        ) : null}
      </PageHeader>
      <ErrorNote error={eventsError} what="Live updates" />
      <ErrorNote error={act.error} what="Action failed" />
      {canWrite ? (
        <BulkBar label="Selected processes" count={chosen.length} actions={BULK} labels={ACTION_LABELS} danger={["delete"]} busy={act.isPending} onRun={(action) => run(chosen, action, `${chosen.length} processes`)} />
      ) : null}
      {processes.isPending ? (
        <Loading what="Loading processes" />
      ) : processes.error ? (
        <ErrorNote error={processes.error} what="Cannot list processes" />
      ) : rows.length === 0 ? (
        <EmptyState title={filter ? "No process matches the filter." : "No processes yet."}>
          {filter ? "Clear the filter to see them all." : canWrite ? "Start one with “Start process”." : "Ask an operator to start one."}
        </EmptyState>
      ) : (
        <DataTable
          label="Processes"
          rows={rows}
          rowKey={(p) => String(p.pm_id)}
          rowName={(p) => `${p.name} (${p.pm_id})`}
          rowData={(p) => p.name}
          selection={canWrite ? selection : undefined}
          columns={COLUMNS}
          actions={
            canWrite
              ? (p) => (
                  <>
                    {actionsFor(p.status, p.mode).map((action) => (
                      <Button
                        key={action}
                        small
                        className="ml-1"
                        disabled={act.isPending}
                        variant={action === "delete" ? "danger" : "default"}
                        aria-label={`${ACTION_LABELS[action]} ${p.name} (${p.pm_id})`}
                        onClick={() => run([String(p.pm_id)], action, `${p.name} (${p.pm_id})`)}
                      >
                        {ACTION_LABELS[action]}
                      </Button>
                    ))}
                    <Button small className="ml-1" aria-label={`Scale ${p.name}`} onClick={() => setScaling(p)}>
                      Scale
                    </Button>
                  </>
                )
              : undefined
          }
        />
      )}
      <Card title="Events" className="mt-3">
        {events.length === 0 ? (
          <p className="text-sm text-slate-600 dark:text-slate-400">Starts, exits, restarts and stops show here as they happen.</p>
        ) : (
          <ol aria-label="Process events" className="max-h-64 space-y-0.5 overflow-auto font-mono text-xs">
            {events.map((e, i) => (
              <li key={`${e.at}-${i}`}>
                <span className="text-slate-600 dark:text-slate-400">{new Date(e.at).toLocaleTimeString()}</span> {e.name ?? "daemon"}
                {e.pm_id !== null ? ` (${e.pm_id})` : ""} <strong>{e.event}</strong>
                {e.manually ? " by a user" : ""}
                {e.error ? ` — ${e.error}` : ""}
              </li>
            ))}
          </ol>
        )}
      </Card>
      <StartDialog open={starting} onOpenChange={setStarting} />
      {scaling ? <ScaleDialog process={scaling} onClose={() => setScaling(null)} /> : null}
      <ConfirmDialog
        open={deleting !== null}
        onOpenChange={(open) => !open && setDeleting(null)}
        title={`Delete ${deleting?.label ?? ""}?`}
        confirmLabel="Delete"
        onConfirm={() => {
          if (deleting) act.mutate({ ids: deleting.ids, action: "delete" });
          selection.set([]);
        }}
      >
        <p className="text-sm">The processes are stopped and PM2 forgets them; their log files stay.</p>
      </ConfirmDialog>
    </div>
  );
}
