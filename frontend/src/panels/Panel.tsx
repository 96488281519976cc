/**
 * One declarative panel from `register_dashboard_panels` (GET /api/dashboard/panels), for
 * plugins that ship no frontend code: a table of rows from its `source` with per-row actions,
 * a live chart of a collector's `fields` (the last hour first), or a stat of its latest values.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "@/api/http";
import { useCollectorSeries } from "@/api/metrics";
import { hasScope, useUser } from "@/api/session";
import type { DashboardPanel, PanelAction, PanelColumn } from "@/api/types";
import { DataTable } from "@/components/DataTable";
import { ConfirmDialog } from "@/components/Dialog";
import { bytes, datetime, duration, percent } from "@/components/format";
import { TimeChart } from "@/components/TimeChart";
import { Button, EmptyState, ErrorNote, Loading, StateBadge } from "@/components/ui";

type Row = Record<string, unknown>;

/** `{field}` placeholders of an action path filled from the row (URL-encoded). */
export function fillPath(template: string, row: Row): string {
  return template.replace(/\{(\w+)\}/g, (_m, key: string) => encodeURIComponent(String(row[key] ?? "")));
}

/** `{field}` placeholders of a confirmation filled from the row, as text. */
export function fillText(template: string, row: Row): string {
  return template.replace(/\{(\w+)\}/g, (_m, key: string) => String(row[key] ?? ""));
}

/** What names a row in a button's accessible name: its name, id, or first column. */
export function rowName(row: Row, columns: PanelColumn[]): string {
  return String(row.name ?? row.id ?? (columns[0] ? row[columns[0].field] : "") ?? "");
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
      if (Array.isArray(value)) return value.join(", ");
      return typeof value === "object" ? JSON.stringify(value) : String(value);
  }
}

/** A value at a dotted path: `"memory.percent"` of a sample. */
export function pick(data: unknown, path: string): number | null {
  let value: unknown = data;
  for (const key of path.split(".")) value = value && typeof value === "object" ? (value as Record<string, unknown>)[key] : undefined;
  return typeof value === "number" ? value : null;
}

export function PanelView({ panel }: { panel: DashboardPanel }) {
  return panel.kind === "table" ? <TablePanel panel={panel} /> : <MetricPanel panel={panel} />;
}

function TablePanel({ panel }: { panel: DashboardPanel }) {
  const user = useUser();
  const client = useQueryClient();
  const [asking, setAsking] = useState<{ action: PanelAction; row: Row } | null>(null);
  const rows = useQuery({
    queryKey: ["panel", panel.plugin, panel.id],
    queryFn: () => api<Row[]>(panel.source),
    refetchInterval: 10_000,
  });
  const act = useMutation({
    mutationFn: ({ action, row }: { action: PanelAction; row: Row }) => {
      const [path, query] = fillPath(action.path, row).split("?");
      return api(path, { method: action.method, query: Object.fromEntries(new URLSearchParams(query ?? "")) });
    },
    onSettled: () => client.invalidateQueries({ queryKey: ["panel", panel.plugin, panel.id] }),
  });
  const actions = panel.actions.filter((a) => !a.scope || hasScope(user, a.scope));
  const run = (action: PanelAction, row: Row) => (action.confirm ? setAsking({ action, row }) : act.mutate({ action, row }));
  if (rows.isPending) return <Loading what={`Loading ${panel.title}`} />;
  if (rows.error) return <ErrorNote error={rows.error} what={`Loading ${panel.title}`} />;
  if (rows.data.length === 0) return <EmptyState title={`No ${panel.title.toLowerCase()} yet.`} />;
  return (
    <>
      <ErrorNote error={act.error} what="Action failed" />
      <DataTable
        label={panel.title}
        rows={rows.data}
        rowKey={(row) => String(row.id ?? row.name ?? JSON.stringify(row))}
        columns={panel.columns.map((c) => ({ title: c.title, render: (row: Row) => formatCell(row[c.field], c.format) }))}
        actions={
          actions.length
            ? (row) =>
                actions.map((a) => (
                  <Button key={a.id} small className="ml-1" disabled={act.isPending} aria-label={`${a.title} ${rowName(row, panel.columns)}`} onClick={() => run(a, row)}>
                    {a.title}
                  </Button>
                ))
            : undefined
        }
      />
      <ConfirmDialog
        open={asking !== null}
        onOpenChange={(open) => !open && setAsking(null)}
        title={asking ? fillText(asking.action.confirm, asking.row) : ""}
        confirmLabel={asking?.action.title ?? "OK"}
        onConfirm={() => asking && act.mutate(asking)}
      />
    </>
  );
}

const COMPACT = new Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 1 });

/** A figure short enough for an axis: 3222274048 → "3.2B", 0.25 → "0.25". */
export function compact(value: number): string {
  return Math.abs(value) >= 10_000 ? COMPACT.format(value) : String(Math.round(value * 100) / 100);
}

const COLOURS = ["#0ea5e9", "#8b5cf6", "#f59e0b", "#10b981", "#ef4444"];
function MetricPanel({ panel }: { panel: DashboardPanel }) {
  const { columns, error } = useCollectorSeries(panel.source, panel.fields.length, (data) => panel.fields.map((f) => pick(data, f)));
  if (error) return <ErrorNote error={error} what={panel.title} />;
  if (panel.kind === "stat") {
    return (
      <dl className="grid grid-cols-2 gap-2">
        {panel.fields.map((f, i) => {
          const value = columns[i + 1].at(-1);
          return (
            <div key={f}>
              <dt className="text-xs text-slate-600 dark:text-slate-400">{f}</dt>
              <dd className="font-mono text-lg" data-stat={f}>
                {value === undefined || Number.isNaN(value) ? "–" : String(value)}
              </dd>
            </div>
          );
        })}
      </dl>
    );
  }
  return (
    <TimeChart
      label={panel.title}
      series={panel.fields.map((f, i) => ({ label: f, colour: COLOURS[i % COLOURS.length] }))}
      data={columns}
      format={compact}
    />
  );
}
