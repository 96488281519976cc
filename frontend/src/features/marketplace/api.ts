/** The marketplace plugin's API as the pages use it: the catalog, installs, jobs, sources. */
import { useQuery } from "@tanstack/react-query";
import { api } from "@/api/http";
import type { JobRecord } from "@/components/JobProgress";

export interface AppSummary {
  id: string;
  title: string;
  kind: "container" | "stack" | "node";
  source: string;
  categories: string[];
  logo: string;
  summary: string;
}

export interface AppPage {
  items: AppSummary[];
  total: number;
  page: number;
  per_page: number;
}

export interface TemplateEnv {
  name: string;
  label: string;
  description: string;
  default: string;
  choices: { value: string; label: string }[];
  hidden: boolean;
  required: boolean;
  secret: boolean;
}

export interface AppDetail {
  id: string;
  title: string;
  kind: AppSummary["kind"];
  source: string;
  description: string;
  note: string;
  categories: string[];
  logo: string;
  website: string;
  env: TemplateEnv[];
  ports: { container: number; host: number | null; protocol: string; label: string }[];
  volumes: { container: string; host: string; read_only: boolean; label: string }[];
  container: { image: string; command: string; network_mode: string; privileged: boolean } | null;
  stack: { compose: string; compose_url: string; repository: string; stackfile: string } | null;
  node: { repository: string; start: string; install: string; instances: number } | null;
  deployer: string | null;
  requirements: { scope: string; reason: string }[];
  you_may_install: boolean;
}

export interface InstalledApp {
  name: string;
  app_id: string;
  title: string;
  kind: string;
  state: string;
  deployer: string;
  resource_id: string;
  message: string;
  values: Record<string, string>;
  created_by: string;
  created: number;
  updated: number;
  status: { state: string; detail: string } | null;
  status_error: string | null;
}

export interface MarketJob extends JobRecord {
  action: string;
  target: string;
  username: string;
}

export interface SourceStatus {
  name: string;
  type: string;
  url: string;
  origin: "settings" | "api";
  templates: number;
  skipped: number;
  skipped_reasons: { item: string; reason: string }[];
  refreshed: number | null;
  error: string | null;
  refreshing: boolean;
}

export const PER_PAGE = 48;
export const INSTALLED_KEY = ["marketplace", "installed"] as const;

export function appPath(id: string): string {
  return `/marketplace/apps/${encodeURIComponent(id)}`;
}

export function installedPath(name: string): string {
  return `/marketplace/installed/${encodeURIComponent(name)}`;
}

export function jobTopic(id: string | null): string | null {
  return id ? `marketplace.jobs:${id}` : null;
}

export function loadJob(id: string): () => Promise<MarketJob> {
  return () => api<MarketJob>(`/marketplace/jobs/${encodeURIComponent(id)}`);
}

export function useInstalled() {
  return useQuery({ queryKey: INSTALLED_KEY, queryFn: () => api<InstalledApp[]>("/marketplace/installed"), refetchInterval: 10_000 });
}

/** The states a job ends well in. */
export const JOB_DONE = ["done"];
