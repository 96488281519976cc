/** The overview: live host charts, host facts, one card per plugin, and what is down. */
import { useQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import { api } from "@/api/http";
import { useHostMetrics, type HostField } from "@/api/metrics";
import { usePlugins } from "@/api/queries";
import type { PluginRecord, Status } from "@/api/types";
import { bytes, duration, percent, rate } from "@/components/format";
import { TimeChart, type SeriesSpec } from "@/components/TimeChart";
import { Banner, Card, ErrorNote, PageHeader, StateBadge } from "@/components/ui";
import { PanelList } from "@/panels/PanelList";

interface ChartSpec {
  title: string;
  fields: HostField[];
  series: SeriesSpec[];
  format: (v: number) => string;
  max?: number;
}

const CHARTS: ChartSpec[] = [
  { title: "CPU", fields: ["cpu"], series: [{ label: "CPU", colour: "#0ea5e9" }], format: (v) => `${v.toFixed(0)} %`, max: 100 },
  { title: "Memory", fields: ["memory"], series: [{ label: "Memory", colour: "#8b5cf6" }], format: (v) => `${v.toFixed(0)} %`, max: 100 },
  { title: "Disk /", fields: ["disk"], series: [{ label: "Used", colour: "#f59e0b" }], format: (v) => `${v.toFixed(0)} %`, max: 100 },
  {
    title: "Network",
    fields: ["rx", "tx"],
    series: [
      { label: "In", colour: "#10b981" },
      { label: "Out", colour: "#ef4444" },
    ],
    format: (v) => rate(v),
  },
  {
    title: "Load",
    fields: ["load1", "load5", "load15"],
    series: [
      { label: "1 min", colour: "#0ea5e9" },
      { label: "5 min", colour: "#6366f1" },
      { label: "15 min", colour: "#94a3b8" },
    ],
    format: (v) => v.toFixed(2),
  },
];

interface Snapshot {
  errors: Record<string, string>;
  collectors: Record<string, unknown>;
}

interface EngineSample {
  name: string;
  up: boolean;
  error: string | null;
}

/** Names and reasons of what is down: failing collectors and unreachable Docker engines. */
export function downBackends(snapshot: Snapshot | undefined): string[] {
  if (!snapshot) return [];
  const down = Object.entries(snapshot.errors).map(([name, error]) => `${name} metrics (${error})`);
  const containers = snapshot.collectors.containers as { engines?: EngineSample[] } | null | undefined;
  for (const engine of containers?.engines ?? []) {
    if (!engine.up) down.push(`Docker engine ${engine.name}${engine.error ? ` (${engine.error})` : ""}`);
  }
  return down;
}

function Stat({ label, value }: { label: string; value: string }) {
  return (
    <div>
      <dt className="text-xs text-slate-600 dark:text-slate-400">{label}</dt>
      <dd className="font-mono text-sm" data-stat={label}>
        {value}
      </dd>
    </div>
  );
}

export function OverviewPage() {
  const live = useHostMetrics();
  const plugins = usePlugins();
  const status = useQuery({ queryKey: ["status"], queryFn: () => api<Status>("/status") });
  const snapshot = useQuery({
    queryKey: ["metrics", "snapshot"],
    queryFn: () => api<Snapshot>("/metrics"),
    refetchInterval: 15_000,
  });
  const failed = (plugins.data ?? []).filter((p) => p.status === "failed");
  const down = downBackends(snapshot.data);
  const host = live.latest;
  // The series is mutated in place; `version` says when it changed.
  const charts = useMemo(() => CHARTS.map((c) => live.series.chart(c.fields)), [live.series, live.version]);

  return (
    <div>
      <PageHeader title={status.data ? `Overview — ${status.data.hostname}` : "Overview"} />
      {failed.length > 0 && (
        <Banner>
          <strong>Plugins that failed to load:</strong>{" "}
          {failed.map((p) => `${p.name} (${p.error ?? "unknown error"})`).join("; ")}
        </Banner>
      )}
      {down.length > 0 && (
        <Banner>
          <strong>Down:</strong> {down.join("; ")}
        </Banner>
      )}
      <ErrorNote error={live.error} what="Live metrics" />
      <Card title="Host" className="mb-3">
        <dl className="grid grid-cols-2 gap-3 sm:grid-cols-4 lg:grid-cols-8">
          <Stat label="CPU" value={percent(host?.cpu.percent)} />
          <Stat label="Cores" value={host ? String(host.cpu.count) : "–"} />
          <Stat label="Memory" value={host ? `${bytes(host.memory.used)} / ${bytes(host.memory.total)}` : "–"} />
          <Stat label="Load" value={host ? host.load.min1.toFixed(2) : "–"} />
          <Stat label="Processes" value={host ? String(host.process_count) : "–"} />
          <Stat label="Host up" value={duration(host?.uptime_seconds)} />
          <Stat label="SkyPort" value={status.data ? status.data.version : "–"} />
          <Stat label="Sampled" value={live.sampledAt ? new Date(live.sampledAt * 1000).toLocaleTimeString() : "–"} />
        </dl>
      </Card>
      <div className="mb-3 grid gap-3 md:grid-cols-2 xl:grid-cols-3">
        {CHARTS.map((chart, i) => (
          <Card key={chart.title} title={chart.title}>
            <TimeChart label={`${chart.title} over the last hour`} series={chart.series} data={charts[i]} format={chart.format} max={chart.max} />
          </Card>
        ))}
      </div>
      <h2 className="mb-2 text-sm font-semibold text-slate-600 dark:text-slate-300">Plugins</h2>
      <div className="mb-3 grid gap-3 sm:grid-cols-2 lg:grid-cols-4">
        {(plugins.data ?? []).map((p) => (
          <PluginCard key={p.name} plugin={p} />
        ))}
      </div>
      <PanelList />
    </div>
  );
}

function PluginCard({ plugin }: { plugin: PluginRecord }) {
  return (
    <Card title={plugin.name} actions={<StateBadge state={plugin.status} />}>
      <p className="text-xs text-slate-600 dark:text-slate-400">
        {plugin.builtin ? "built in" : `${plugin.distribution} ${plugin.version}`}
      </p>
      {plugin.summary ? <p className="mt-1 text-sm">{plugin.summary}</p> : null}
      {plugin.error ? <p className="mt-1 text-sm text-red-700 dark:text-red-400">{plugin.error}</p> : null}
    </Card>
  );
}
