/** The pm2 plugin's API as the pages use it: types, queries, actions and live events. */
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useRef } from "react";
import { useTopic } from "@/api/hooks";
import { api } from "@/api/http";

export interface ProcessSummary {
  name: string;
  pm_id: number;
  namespace: string;
  status: string;
  pid: number;
  cpu: number;
  memory: number;
  restarts: number;
  uptime: number;
  mode: "fork" | "cluster";
  instances: number;
  script: string;
  cwd: string;
  interpreter: string;
  watch: boolean;
}

export interface ProcessDetail extends Omit<ProcessSummary, "watch"> {
  unstable_restarts: number;
  created_at: number | null;
  interpreter_args: string[];
  args: string[];
  watch: boolean | string[];
  autorestart: boolean;
  max_memory_restart: number | null;
  cron_restart: string | null;
  out_log: string | null;
  err_log: string | null;
  exit_code: number | null;
  node_version: string | null;
  env: Record<string, string>;
  env_revealed: boolean;
}

/** One chunk of output on `pm2.logs:<name>`, or a past line (no `at`). */
export interface OutputLine {
  name: string;
  pm_id: number;
  stream: "out" | "err";
  text: string;
  at?: number;
}

export interface ProcessEvent {
  event: string;
  at: number;
  name: string | null;
  pm_id: number | null;
  status: string | null;
  manually: boolean;
  error: string | null;
}

export type ProcessAction = "start" | "stop" | "restart" | "reload" | "delete";

export const ACTION_LABELS: Record<ProcessAction, string> = {
  start: "Start",
  stop: "Stop",
  restart: "Restart",
  reload: "Reload",
  delete: "Delete",
};

export const PROCESSES_KEY = ["pm2", "processes"] as const;

export function useProcesses(enabled = true) {
  return useQuery({ enabled, queryKey: PROCESSES_KEY, queryFn: () => api<ProcessSummary[]>("/pm2/list"), refetchInterval: 5_000 });
}

export function processPath(ref: string | number): string {
  return `/pm2/processes/${encodeURIComponent(String(ref))}`;
}

/** Run one action on the processes `ref` names (a name: every instance; a pm_id: one). */
export function processAction(ref: string | number, action: ProcessAction) {
  if (action === "delete") return api<ProcessSummary[]>(processPath(ref), { method: "DELETE" });
  return api<ProcessSummary[]>(`${processPath(ref)}/${action}`, { method: "POST" });
}

/** The actions that make sense in a state (what `pm2` would do something with). */
export function actionsFor(status: string, mode: ProcessSummary["mode"]): ProcessAction[] {
  if (status === "online" || status === "launching") return mode === "cluster" ? ["reload", "restart", "stop", "delete"] : ["restart", "stop", "delete"];
  return ["start", "delete"];
}

/** Keep the process list current from `pm2.events` (batched: a cluster restart is many events). */
export function usePm2Events(onEvent?: (event: ProcessEvent) => void): string | null {
  const client = useQueryClient();
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const latest = useRef(onEvent);
  latest.current = onEvent;
  const handle = useCallback(
    (data: unknown) => {
      latest.current?.(data as ProcessEvent);
      timer.current ??= setTimeout(() => {
        timer.current = null;
        void client.invalidateQueries({ queryKey: ["pm2"] });
      }, 200);
    },
    [client],
  );
  return useTopic("pm2.events", handle);
}
