/** Live CPU, memory, network and block I/O of one container from `docker.stats:<id>`. */
import { useCallback, useMemo, useState } from "react";
import { useTopic } from "@/api/hooks";
import { bytes } from "@/components/format";
import { TimeChart } from "@/components/TimeChart";
import { Card, ErrorNote } from "@/components/ui";
import type { ContainerStats } from "./api";

const KEEP = 300;

export function ContainerStatsCharts({ id, engine, running }: { id: string; engine?: string; running: boolean }) {
  const [points, setPoints] = useState<{ ts: number; stats: ContainerStats }[]>([]);
  const [problem, setProblem] = useState("");
  const onStats = useCallback((data: unknown) => {
    const message = data as ContainerStats & { error?: string };
    if (message.error) {
      setProblem(message.error);
      return;
    }
    setProblem("");
    setPoints((old) => [...old, { ts: Date.now() / 1000, stats: message }].slice(-KEEP));
  }, []);
  const error = useTopic(running ? `docker.stats:${engine ? `${engine}/` : ""}${id}` : null, onStats);
  const columns = useMemo(() => {
    const ts = points.map((p) => p.ts);
    return {
      cpu: [ts, points.map((p) => p.stats.cpu_percent)],
      memory: [ts, points.map((p) => p.stats.memory_usage_bytes)],
      network: [ts, points.map((p) => p.stats.network_rx_bytes), points.map((p) => p.stats.network_tx_bytes)],
    };
  }, [points]);
  if (!running) return <ErrorNote error="The container is not running: it has no live figures." />;
  return (
    <div>
      <ErrorNote error={error || problem} what="Live stats" />
      <div className="grid gap-3 lg:grid-cols-3">
        <Card title="CPU (100 % = one core)">
          <TimeChart label="CPU of the container" series={[{ label: "CPU", colour: "#0ea5e9" }]} data={columns.cpu} format={(v) => `${v.toFixed(1)} %`} />
        </Card>
        <Card title="Memory">
          <TimeChart label="Memory of the container" series={[{ label: "Used", colour: "#8b5cf6" }]} data={columns.memory} format={bytes} />
        </Card>
        <Card title="Network (total since start)">
          <TimeChart label="Network of the container" series={[{ label: "In", colour: "#10b981" }, { label: "Out", colour: "#ef4444" }]} data={columns.network} format={bytes} />
        </Card>
      </div>
    </div>
  );
}
