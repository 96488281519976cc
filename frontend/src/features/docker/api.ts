/** The docker plugin's API as the pages use it: types, queries, actions and live events. */
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useRef } from "react";
import { useSearch } from "wouter";
import { useTopic } from "@/api/hooks";
import { api } from "@/api/http";

export interface PortMapping {
  private: number;
  type: string;
  public?: number;
  ip?: string;
}

export interface ContainerSummary {
  id: string;
  name: string;
  image: string;
  image_id: string;
  command: string;
  created: number;
  state: string;
  status: string;
  ports: PortMapping[];
  labels: Record<string, string>;
  networks: string[];
  engine: string;
}

export interface ContainerStats {
  name: string;
  id: string;
  engine: string;
  cpu_percent: number;
  memory_usage_bytes: number;
  memory_limit_bytes: number;
  memory_percent: number;
  network_rx_bytes: number;
  network_tx_bytes: number;
  block_read_bytes: number;
  block_write_bytes: number;
  pids: number;
}

export interface EngineStatus {
  name: string;
  url: string;
  source: string;
}

export type ContainerAction = "start" | "stop" | "restart" | "pause" | "unpause" | "kill" | "remove";

/** The engine a page works on: `?engine=NAME`, or the default one (undefined). */
export function useEngine(): string | undefined {
  return new URLSearchParams(useSearch()).get("engine") ?? undefined;
}

/** `/containers/web` → `/containers/web?engine=nas` when the page is on another engine. */
export function withEngine(path: string, engine: string | undefined): string {
  return engine ? `${path}?engine=${encodeURIComponent(engine)}` : path;
}

export function useEngines() {
  return useQuery({ queryKey: ["docker", "engines"], queryFn: () => api<EngineStatus[]>("/docker/engines"), staleTime: 60_000 });
}

export const containersKey = (engine?: string) => ["docker", "containers", engine ?? ""] as const;

export function useContainers(engine?: string, enabled = true) {
  return useQuery({
    enabled,
    queryKey: containersKey(engine),
    queryFn: () => api<ContainerSummary[]>("/docker/ps", { query: { all: true, engine } }),
  });
}

/** Run one action on a container: `POST …/stop`, or `DELETE` (forced) to remove. */
export function containerAction(id: string, action: ContainerAction, engine?: string) {
  const path = `/docker/containers/${encodeURIComponent(id)}`;
  if (action === "remove") return api(path, { method: "DELETE", query: { force: true, engine } });
  return api(`${path}/${action}`, { method: "POST", query: { engine } });
}

/** The actions that make sense in a state (what `docker` would accept). */
export function actionsFor(state: string): ContainerAction[] {
  switch (state) {
    case "running":
      return ["stop", "restart", "pause", "kill"];
    case "paused":
      return ["unpause", "stop", "kill"];
    case "restarting":
      return ["stop", "kill"];
    default:
      return ["start", "remove"];
  }
}

export const ACTION_LABELS: Record<ContainerAction, string> = {
  start: "Start",
  stop: "Stop",
  restart: "Restart",
  pause: "Pause",
  unpause: "Unpause",
  kill: "Kill",
  remove: "Remove",
};

const EVENT_TYPES: Record<string, string[]> = {
  container: ["docker", "containers"],
  image: ["docker", "images"],
  volume: ["docker", "volumes"],
  network: ["docker", "networks"],
};

/** Keep the docker lists current from `docker.events`: each event refreshes its kind's list. */
export function useDockerEvents(): string | null {
  const client = useQueryClient();
  const pending = useRef(new Set<string>());
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const onEvent = useCallback(
    (data: unknown) => {
      const event = data as { Type?: string };
      const key = EVENT_TYPES[event.Type ?? ""];
      if (!key) return;
      pending.current.add(key[1]);
      timer.current ??= setTimeout(() => {
        timer.current = null;
        for (const kind of pending.current) void client.invalidateQueries({ queryKey: ["docker", kind] });
        pending.current.clear();
      }, 150);
    },
    [client],
  );
  return useTopic("docker.events", onEvent);
}
