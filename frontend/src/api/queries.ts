/** Queries more than one page reads. */
import { useQuery } from "@tanstack/react-query";
import { api } from "./http";
import type { DashboardPanel, PluginRecord } from "./types";

export function usePlugins() {
  return useQuery({ queryKey: ["plugins"], queryFn: () => api<PluginRecord[]>("/plugins"), staleTime: 30_000 });
}

/** Whether the plugin `name` is loaded on the server. */
export function usePluginLoaded(name: string): boolean {
  const { data } = usePlugins();
  return Boolean(data?.some((p) => p.name === name && p.status === "loaded"));
}

/** The dashboard panels of every plugin, those this user may see. */
export function usePanels() {
  return useQuery({ queryKey: ["panels"], queryFn: () => api<DashboardPanel[]>("/dashboard/panels"), staleTime: 60_000 });
}
