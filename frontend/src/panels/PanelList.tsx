/**
 * Declarative panels from `register_dashboard_panels` (GET /api/dashboard/panels), for plugins
 * without pages of their own: tables of rows with per-row actions, stats and live charts.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useState } from "react";
import { useTopic } from "@/api/hooks";
import { api } from "@/api/http";
import { hasScope, useUser } from "@/api/session";
import type { DashboardPanel, MetricsSample, PanelAction, PanelColumn } from "@/api/types";
import { bytes, datetime, duration, percent } from "@/components/format";
import { TimeChart } from "@/components/TimeChart";
import { Button, Card, EmptyState, ErrorNote, StateBadge } from "@/components/ui";

/** Plugins whose pages the dashboard has: their panels are not repeated on the overview. */
const OWN_PAGES = new Set(["docker"]);

export function PanelList() {
  const panels = useQuery({ queryKey: ["panels"], queryFn: () => api<DashboardPanel[]>("/dashboard/panels") });
  const shown = (panels.data ?? []).filter((p) => !OWN_PAGES.has(p.plugin));
  if (panels.error) return <ErrorNote error={panels.error} what="Dashboard panels" />;
  return (
    <div className="grid gap-3 lg:grid-cols-2">
      {shown.map((panel) => (
        <Card key={panel.id} title={panel.title}>
          {panel.kind === "table" ? <TablePanel panel={panel} /> : <MetricPanel panel={panel} />}
        </Card>
      ))}
    </div>
  );
}

/** `{field}` placeholders of an action path filled from the row (URL-encoded). */
export function fillPath(template: string, row: Record<string, unknown>): string {
  return template.replace(/\{(\w+)\}/g, (_m, key: string) => encodeURIComponent(String(row[key] ?? "")));
}

export function formatCell(value: unknown, format: PanelColumn["format"]) {
  if (value === null || value === undefined) return "–";
  switch (format) {
    case "bytes":
      return bytes(Number(value));
    case "percent":
      return percent(Number(value));
    case "duration":
      return duration(Number(value));
    case "datetime":
      return datetime(Number(value));
    case "status":
      return <StateBadge state={String(value)} />;
    default:
      return typeof value === "object" ? JSON.stringify(value) : String(value);
  }
}

function TablePanel({ panel }: { panel: DashboardPanel }) {
  const user = useUser();
  const client = useQueryClient();
  const rows = useQuery({
    queryKey: ["panel", panel.id],
    queryFn: () => api<Record<string, unknown>[]>(panel.source),
    refetchInterval: 10_000,
  });
  const act = useMutation({
    mutationFn: ({ action, row }: { action: PanelAction; row: Record<string, unknown> }) => {
      const [path, query] = fillPath(action.path, row).split("?");
      return api(path, { method: action.method, query: Object.fromEntries(new URLSearchParams(query ?? "")) });
    },
    onSettled: () => client.invalidateQueries({ queryKey: ["panel", panel.id] }),
  });
  const actions = panel.actions.filter((a) => !a.scope || hasScope(user, a.scope));
  if (rows.error) return <ErrorNote error={rows.error} what={`Loading ${panel.title}`} />;
  if (rows.data && rows.data.length === 0) return <EmptyState title={`No ${panel.title.toLowerCase()} yet.`} />;
  return (
    <>
      <ErrorNote error={act.error} what="Action failed" />
      <table className="w-full text-sm">
        <thead>
          <tr className="text-left text-xs text-slate-500">
            {panel.columns.map((c) => (
              <th key={c.field} className="py-1 pr-2">
                {c.title}
              </th>
            ))}
            {actions.length ? <th className="sr-only">Actions</th> : null}
          </tr>
        </thead>
        <tbody>
          {(rows.data ?? []).map((row, i) => (
            <tr key={String(row.id ?? row.name ?? i)} className="border-t border-slate-100 dark:border-slate-800">
              {panel.columns.map((c) => (
                <td key={c.field} className="py-1 pr-2">
                  {formatCell(row[c.field], c.format)}
                </td>
              ))}
              {actions.length ? (
                <td className="whitespace-nowrap py-1 text-right">
                  {actions.map((a) => (
                    <Button
                      key={a.id}
                      small
                      className="ml-1"
                      aria-label={`${a.title} ${String(row.name ?? row.id ?? "")}`}
                      onClick={() => (!a.confirm || window.confirm(a.confirm)) && act.mutate({ action: a, row })}
                    >
                      {a.title}
                    </Button>
                  ))}
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** A value at a dotted path: `"memory.percent"` of a sample. */
export function pick(data: unknown, path: string): number | null {
  let value: unknown = data;
  for (const key of path.split(".")) value = value && typeof value === "object" ? (value as Record<string, unknown>)[key] : undefined;
  return typeof value === "number" ? value : null;
}

const COLOURS = ["#0ea5e9", "#8b5cf6", "#f59e0b", "#10b981", "#ef4444"];

function MetricPanel({ panel }: { panel: DashboardPanel }) {
  const [columns, setColumns] = useState<number[][]>(() => [[], ...panel.fields.map(() => [])]);
  const onSample = useCallback(
    (message: unknown) => {
      const sample = message as MetricsSample;
      if (sample.collector !== panel.source) return;
      setColumns((old) => [
        [...old[0], sample.ts].slice(-900),
        ...panel.fields.map((f, i) => [...old[i + 1], pick(sample.data, f) ?? NaN].slice(-900)),
      ]);
    },
    [panel],
  );
  const error = useTopic("metrics", onSample);
  if (error) return <ErrorNote error={error} what={panel.title} />;
  if (panel.kind === "stat") {
    return (
      <dl className="grid grid-cols-2 gap-2">
        {panel.fields.map((f, i) => (
          <div key={f}>
            <dt className="text-xs text-slate-500">{f}</dt>
            <dd className="font-mono">{columns[i + 1].length ? String(columns[i + 1].at(-1)) : "–"}</dd>
          </div>
        ))}
      </dl>
    );
  }
  return (
    <TimeChart
      label={panel.title}
      series={panel.fields.map((f, i) => ({ label: f, colour: COLOURS[i % COLOURS.length] }))}
      data={columns}
      format={(v) => v.toFixed(1)}
    />
  );
}
