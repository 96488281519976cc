/** Shapes of the API's answers the dashboard reads (see /schema for all of them). */

export interface UserInfo {
  username: string;
  role: string;
  scopes: string[];
  method: string;
}

export interface LoginResponse {
  token: string;
  expires_at: number;
  user: UserInfo;
  csrf_token: string;
}

export interface PluginRecord {
  name: string;
  module: string;
  status: "loaded" | "failed" | "disabled";
  version: string;
  distribution: string;
  builtin: boolean;
  error: string | null;
  summary: string;
}

/** A node of the cluster (`GET /api/nodes`); a single server lists itself. */
export interface NodeInfo {
  name: string;
  url: string;
  state: "up" | "down";
  version: string;
  plugins: string[];
  manages: Record<string, string>;
  roles: string[];
  started_at: number;
  heartbeat_at: number;
  /** The node that answered. */
  this: boolean;
}

export interface Status {
  version: string;
  hostname: string;
  uptime_seconds: number;
  started_at: number;
}

export interface HostMetrics {
  uptime_seconds: number;
  process_count: number;
  cpu: { percent: number; per_core: number[]; count: number };
  load: { min1: number; min5: number; min15: number };
  memory: { total: number; used: number; available: number; percent: number };
  swap: { total: number; used: number; percent: number };
  disks: { device: string; mountpoint: string; total: number; used: number; percent: number }[];
  disk_io: { name: string; read_bytes_per_sec: number; write_bytes_per_sec: number }[];
  network: { name: string; rx_bytes_per_sec: number; tx_bytes_per_sec: number }[];
}

/** A message of the `metrics` topic. */
export interface MetricsSample {
  collector: string;
  ts: number;
  data: unknown;
}

export interface HistoryPoint {
  ts: number;
  data: unknown;
}

export interface MetricsHistory {
  collector: string;
  interval: number;
  points: HistoryPoint[];
}

export interface TerminalInfo {
  name: string;
  description: string;
  scope: string;
  allowed: boolean;
  plugin: string;
}

export interface PanelColumn {
  field: string;
  title: string;
  format: "text" | "bytes" | "percent" | "duration" | "datetime" | "status";
}

export interface PanelAction {
  id: string;
  title: string;
  method: "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  scope: string;
  confirm: string;
}

export interface DashboardPanel {
  id: string;
  title: string;
  kind: "table" | "chart" | "stat";
  source: string;
  columns: PanelColumn[];
  actions: PanelAction[];
  fields: string[];
  scope: string;
  plugin: string;
}
