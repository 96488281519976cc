/** Queries more than one page reads. */
import { useQuery } from "@tanstack/react-query";
import { api } from "./http";
import type { PluginRecord } from "./types";

export function usePlugins() {
  return useQuery({ queryKey: ["plugins"], queryFn: () => api<PluginRecord[]>("/plugins"), staleTime: 30_000 });
}

/** Whether the plugin `name` is loaded on the server. */
export function usePluginLoaded(name: string): boolean {
  const { data } = usePlugins();
  return Boolean(data?.some((p) => p.name === name && p.status === "loaded"));
}
