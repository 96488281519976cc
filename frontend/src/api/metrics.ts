/** Host metrics as chart columns: the last hour from history, then every live sample. */
import { useQuery } from "@tanstack/react-query";
import { useCallback, useMemo, useRef, useState } from "react";
import { useTopic } from "./hooks";
import { api } from "./http";
import type { HistoryPoint, HostMetrics, MetricsHistory, MetricsSample } from "./types";

/** The figures charted for the host, in column order after the timestamp. */
export const HOST_FIELDS = ["cpu", "memory", "disk", "rx", "tx", "load1", "load5", "load15"] as const;
export type HostField = (typeof HOST_FIELDS)[number];

const WINDOW_SECONDS = 3600;

/** One host sample as chart values: percentages, bytes/s summed over interfaces, load. */
export function hostValues(host: HostMetrics): Record<HostField, number> {
  const root = host.disks.find((d) => d.mountpoint === "/") ?? host.disks[0];
  const nics = host.network.filter((n) => n.name !== "lo");
  return {
    cpu: host.cpu.percent,
    memory: host.memory.percent,
    disk: root ? root.percent : 0,
    rx: nics.reduce((sum, n) => sum + n.rx_bytes_per_sec, 0),
    tx: nics.reduce((sum, n) => sum + n.tx_bytes_per_sec, 0),
    load1: host.load.min1,
    load5: host.load.min5,
    load15: host.load.min15,
  };
}

/** Columnar series: `ts` and one array per field, oldest first, at most an hour long. */
export class HostSeries {
  ts: number[] = [];
  columns: Record<HostField, number[]> = Object.fromEntries(HOST_FIELDS.map((f) => [f, []])) as never;

  add(ts: number, host: HostMetrics): void {
    if (this.ts.length && ts <= this.ts[this.ts.length - 1]) return;
    const values = hostValues(host);
    this.ts.push(ts);
    for (const field of HOST_FIELDS) this.columns[field].push(values[field]);
    const cutoff = ts - WINDOW_SECONDS;
    let drop = 0;
    while (drop < this.ts.length && this.ts[drop] < cutoff) drop++;
    if (drop) {
      this.ts.splice(0, drop);
      for (const field of HOST_FIELDS) this.columns[field].splice(0, drop);
    }
  }

  /** Put history in front: the points older than the first one held (live samples may come first). */
  prepend(points: { ts: number; data: unknown }[]): void {
    const first = this.ts.length ? this.ts[0] : Infinity;
    const older = points.filter((p) => p.ts < first);
    const values = older.map((p) => hostValues(p.data as HostMetrics));
    this.ts.unshift(...older.map((p) => p.ts));
    for (const field of HOST_FIELDS) this.columns[field].unshift(...values.map((v) => v[field]));
  }

  /** uPlot data for `fields`: `[ts, field1, field2…]` (fresh arrays, so React sees a change). */
  chart(fields: HostField[]): number[][] {
    return [this.ts.slice(), ...fields.map((f) => this.columns[f].slice())];
  }
}

export interface HostLive {
  series: HostSeries;
  latest: HostMetrics | null;
  /** Unix time of `latest`. */
  sampledAt: number | null;
  /** Changes with every sample added. */
  version: number;
  error: string | null;
}

/** The host's series: history first (so charts are never empty), then the `metrics` topic. */
export function useHostMetrics(): HostLive {
  const [state] = useState(() => ({ series: new HostSeries(), latest: null as HostMetrics | null, sampledAt: null as number | null }));
  const [version, setVersion] = useState(0);
  const history = useQuery({
    queryKey: ["metrics", "history", "host"],
    queryFn: () => api<MetricsHistory>("/metrics/history", { query: { collector: "host", minutes: 60 } }),
    staleTime: Infinity,
    gcTime: 0,
  });
  useMemo(() => {
    state.series.prepend(history.data?.points ?? []);
    const last = history.data?.points.at(-1);
    if (last && !state.latest) {
      state.latest = last.data as HostMetrics;
      state.sampledAt = last.ts;
    }
  }, [history.data, state]);
  const onSample = useCallback(
    (message: unknown) => {
      const sample = message as MetricsSample;
      if (sample.collector !== "host") return;
      state.series.add(sample.ts, sample.data as HostMetrics);
      state.latest = sample.data as HostMetrics;
      state.sampledAt = sample.ts;
      setVersion((v) => v + 1);
    },
    [state],
  );
  const error = useTopic("metrics", onSample);
  return { series: state.series, latest: state.latest, sampledAt: state.sampledAt, version: version + (history.data ? 1 : 0), error };
}

const KEEP = 3600;

/**
 * Columns `[ts, figure1, figure2…]` of one collector: its last hour from history, then every
 * live sample. `figures` reads the numbers charted from one sample's data (null: none).
 */
export function useCollectorSeries(collector: string, count: number, figures: (data: unknown) => (number | null)[]): { columns: number[][]; error: string | null } {
  const history = useQuery({
    queryKey: ["metrics", "history", collector],
    queryFn: () => api<MetricsHistory>("/metrics/history", { query: { collector, minutes: 60 } }),
    staleTime: Infinity,
    gcTime: 0,
  });
  const [live, setLive] = useState<{ ts: number; data: unknown }[]>([]);
  const onSample = useCallback(
    (message: unknown) => {
      const sample = message as MetricsSample;
      if (sample.collector === collector) setLive((old) => [...old, { ts: sample.ts, data: sample.data }].slice(-KEEP));
    },
    [collector],
  );
  const error = useTopic("metrics", onSample);
  const read = useRef(figures);
  read.current = figures;
  const columns = useMemo(() => seriesColumns(history.data?.points ?? [], live, count, read.current), [history.data, live, count]);
  return { columns, error: error ?? (history.error ? history.error.message : null) };
}

/** History points older than the first live one, then the live ones, as chart columns:
 * the times, then `count` columns of figures (NaN where a sample has none). */
export function seriesColumns(past: HistoryPoint[], live: HistoryPoint[], count: number, figures: (data: unknown) => (number | null)[]): number[][] {
  const first = live[0]?.ts ?? Infinity;
  const points = [...past.filter((p) => p.ts < first), ...live];
  const rows = points.map((p) => figures(p.data));
  return [points.map((p) => p.ts), ...Array.from({ length: count }, (_, i) => rows.map((r) => r[i] ?? NaN))];
}
