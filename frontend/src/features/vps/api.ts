/** The vps plugin's API as the pages use it: servers, host keys, runs, files and metrics. */
import { useQuery } from "@tanstack/react-query";
import { useCallback, useState } from "react";
import { useTopic } from "@/api/hooks";
import { api } from "@/api/http";
import type { MetricsSample } from "@/api/types";

export interface ServerInfo {
  name: string;
  host: string;
  port: number;
  user: string;
  auth: "private_key" | "key_file" | "password" | "agent";
  key_file: string | null;
  tags: string[];
  jump: string | null;
  notes: string;
  trusted: boolean;
  host_key_type: string | null;
  host_key_fingerprint: string | null;
  created: number;
  updated: number;
}

/** The key a server presents (`POST /vps/scan`, `GET /vps/servers/{name}/host-key`). */
export interface ScannedKey {
  key_type: string;
  fingerprint: string;
}

export interface HostResult {
  server: string;
  ok: boolean;
  exit_code: number | null;
  stdout: string;
  stderr: string;
  duration: number;
  error: string | null;
  reason: string | null;
  truncated: boolean;
}

export interface RunJob {
  id: string;
  command: string;
  servers: string[];
  started: number;
  finished: number | null;
  results: Record<string, HostResult>;
  ok: boolean | null;
}

/** A message of `vps.run:<job>`. */
export type RunMessage =
  | { server: string; stream: "stdout" | "stderr"; data: string }
  | { server: string; result: HostResult }
  | { done: true; job: RunJob };

export interface FileEntry {
  name: string;
  path: string;
  size: number;
  kind: "file" | "dir" | "link" | "other";
  mode: string;
  modified: number | null;
}

export interface ServerMetrics {
  name: string;
  up: boolean;
  error: string | null;
  cpu_percent: number | null;
  load1: number | null;
  memory_percent: number | null;
  memory_total: number | null;
  disk_percent: number | null;
  disk_total: number | null;
  disk_used: number | null;
  uptime: number | null;
  sampled_at: number | null;
}

export interface VpsSample {
  servers: ServerMetrics[];
  up: number;
  down: number;
}

export const SERVERS_KEY = ["vps", "servers"] as const;

export function serverPath(name: string): string {
  return `/vps/servers/${encodeURIComponent(name)}`;
}

export function useServers(enabled = true) {
  return useQuery({ enabled, queryKey: SERVERS_KEY, queryFn: () => api<ServerInfo[]>("/vps/servers") });
}

/** Every server's latest health from the `vps` collector: the snapshot, then live samples. */
export function useServerHealth(): { health: Map<string, ServerMetrics>; error: string | null } {
  const snapshot = useQuery({
    queryKey: ["metrics", "snapshot"],
    queryFn: () => api<{ collectors: Record<string, unknown> }>("/metrics"),
    staleTime: 10_000,
  });
  const [live, setLive] = useState<VpsSample | null>(null);
  const onSample = useCallback((message: unknown) => {
    const sample = message as MetricsSample;
    if (sample.collector === "vps") setLive(sample.data as VpsSample);
  }, []);
  const error = useTopic("metrics", onSample);
  const latest = live ?? (snapshot.data?.collectors.vps as VpsSample | null | undefined);
  return { health: new Map((latest?.servers ?? []).map((s) => [s.name, s])), error };
}

/** A job id of our own, so we can follow `vps.run:<job>` before the run starts. */
export function newJobId(): string {
  return `ui-${crypto.getRandomValues(new Uint32Array(2)).join("")}`;
}
