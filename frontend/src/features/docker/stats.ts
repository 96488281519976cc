/** Recent CPU and memory of every running container, from the `containers` metrics collector
 * (one subscription for the whole table instead of one `docker.stats:<id>` per row). */
import { useCallback, useRef, useState } from "react";
import { useTopic } from "@/api/hooks";
import type { MetricsSample } from "@/api/types";
import type { ContainerStats } from "./api";

const KEEP = 30;

export interface Recent {
  cpu: number[];
  memory: number[];
  latest: ContainerStats;
}

/** Fold one `containers` sample into the per-container history (at most KEEP points each). */
export function foldStats(history: Map<string, Recent>, containers: ContainerStats[]): Map<string, Recent> {
  const next = new Map<string, Recent>();
  for (const stats of containers) {
    const old = history.get(stats.id);
    next.set(stats.id, {
      cpu: [...(old?.cpu ?? []), stats.cpu_percent].slice(-KEEP),
      memory: [...(old?.memory ?? []), stats.memory_usage_bytes].slice(-KEEP),
      latest: stats,
    });
  }
  return next;
}

export function useContainerStats(): Map<string, Recent> {
  const history = useRef(new Map<string, Recent>());
  const [, setVersion] = useState(0);
  const onSample = useCallback((message: unknown) => {
    const sample = message as MetricsSample;
    if (sample.collector !== "containers") return;
    history.current = foldStats(history.current, (sample.data as { container: ContainerStats[] }).container);
    setVersion((v) => v + 1);
  }, []);
  useTopic("metrics", onSample);
  return history.current;
}
