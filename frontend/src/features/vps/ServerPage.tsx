/** One server: details and live metrics, run a command, its files, a shell. */
import * as Tabs from "@radix-ui/react-tabs";
import { useMutation, useQuery } from "@tanstack/react-query";
import { lazy, Suspense, useState } from "react";
import { Link, useParams } from "wouter";
import { api } from "@/api/http";
import { useCollectorSeries } from "@/api/metrics";
import { useCan } from "@/api/session";
import { datetime, duration, percent } from "@/components/format";
import { TAB } from "@/components/tabs";
import { TimeChart } from "@/components/TimeChart";
import { Button, Card, ErrorNote, Loading, PageHeader, StateBadge } from "@/components/ui";
import { serverPath, useServerHealth, type ServerInfo, type VpsSample } from "./api";
import { FileBrowser } from "./FileBrowser";
import { RunCommand } from "./RunCommand";
import { Health } from "./ServersPage";
import { TrustDialog } from "./TrustDialog";

const Terminal = lazy(() => import("@/components/Terminal"));

interface TestResult {
  ok: boolean;
  latency_ms: number;
  os: string;
  uptime: number | null;
}

const CHARTS = [
  { title: "CPU", field: "cpu_percent", colour: "#0ea5e9" },
  { title: "Memory", field: "memory_percent", colour: "#8b5cf6" },
  { title: "Disk /", field: "disk_percent", colour: "#f59e0b" },
] as const;

/** The server's figures in one `vps` sample (null where it was down or not sampled). */
export function serverFigures(data: unknown, name: string): (number | null)[] {
  const found = (data as VpsSample | null)?.servers.find((s) => s.name === name);
  return [...CHARTS.map((c) => (found?.up ? found[c.field] : null)), found?.up ? found.load1 : null];
}

export default function ServerPage() {
  const name = decodeURIComponent(useParams<{ name: string }>().name);
  const canRun = useCan("vps:run");
  const canWrite = useCan("vps:write");
  const canShell = useCan("vps:shell");
  const canFiles = useCan("vps:files");
  const [trusting, setTrusting] = useState(false);
  const server = useQuery({ queryKey: ["vps", "servers", name], queryFn: () => api<ServerInfo>(serverPath(name)) });
  const { health } = useServerHealth();
  const test = useMutation({ mutationFn: () => api<TestResult>(`${serverPath(name)}/test`) });
  if (server.isPending) return <Loading what="Loading the server" />;
  if (server.error)
    return (
      <div>
        <ErrorNote error={server.error} what={`Server ${name}`} />
        <p className="mt-2 text-sm">
          <Link href="/servers" className="text-sky-700 underline dark:text-sky-400">
            Back to the servers
          </Link>
        </p>
      </div>
    );
  const s = server.data;
  return (
    <div>
      <PageHeader title={name}>
        <StateBadge state={s.trusted ? "trusted" : "untrusted"} />
        <Health health={health.get(name)} />
        {canWrite && !s.trusted ? (
          <Button small variant="primary" onClick={() => setTrusting(true)}>
            Trust host key
          </Button>
        ) : null}
        <Button small disabled={test.isPending} onClick={() => test.mutate()}>
          {test.isPending ? "Testing…" : "Test connection"}
        </Button>
      </PageHeader>
      <ErrorNote error={test.error} what="Test" />
      {test.data ? (
        <p role="status" className="mb-2 text-sm">
          Connected: {test.data.os}, up {duration(test.data.uptime)}, {test.data.latency_ms.toFixed(1)} ms per command.
        </p>
      ) : null}
      <Tabs.Root defaultValue="overview">
        <Tabs.List aria-label="Server views" className="flex flex-wrap gap-1 border-b border-slate-200 dark:border-slate-800">
          <Tabs.Trigger value="overview" className={TAB}>
            Overview
          </Tabs.Trigger>
          {canRun ? (
            <Tabs.Trigger value="run" className={TAB}>
              Run
            </Tabs.Trigger>
          ) : null}
          {canFiles ? (
            <Tabs.Trigger value="files" className={TAB}>
              Files
            </Tabs.Trigger>
          ) : null}
          {canShell ? (
            <Tabs.Trigger value="terminal" className={TAB}>
              Terminal
            </Tabs.Trigger>
          ) : null}
        </Tabs.List>
        <Tabs.Content value="overview" className="pt-3">
          <Overview server={s} />
        </Tabs.Content>
        {canRun ? (
          <Tabs.Content value="run" className="pt-3">
            <RunCommand selected={[name]} tags={[]} fixed={name} />
          </Tabs.Content>
        ) : null}
        {canFiles ? (
          <Tabs.Content value="files" className="pt-3">
            <FileBrowser server={name} />
          </Tabs.Content>
        ) : null}
        {canShell ? (
          <Tabs.Content value="terminal" className="pt-3">
            <Suspense fallback={<Loading what="Loading the terminal" />}>
              <Terminal provider="vps" target={name} label={`Terminal on ${name}`} />
            </Suspense>
          </Tabs.Content>
        ) : null}
      </Tabs.Root>
      {trusting ? <TrustDialog server={s} onClose={() => setTrusting(false)} /> : null}
    </div>
  );
}

function Overview({ server: s }: { server: ServerInfo }) {
  const { columns, error } = useCollectorSeries("vps", CHARTS.length + 1, (data) => serverFigures(data, s.name));
  const facts: [string, string][] = [
    ["Address", `${s.user}@${s.host}:${s.port}`],
    ["Through", s.jump ?? "directly"],
    ["Logs in with", s.auth.replace("_", " ")],
    ["Tags", s.tags.join(", ") || "–"],
    ["Host key", s.host_key_fingerprint ? `${s.host_key_type} ${s.host_key_fingerprint}` : "not trusted yet"],
    ["Notes", s.notes || "–"],
    ["Added", datetime(s.created)],
  ];
  return (
    <div className="grid gap-3 lg:grid-cols-2">
      <Card title="Server">
        <dl className="grid grid-cols-[7rem_1fr] gap-x-3 gap-y-1">
          {facts.map(([label, value]) => (
            <div key={label} className="contents">
              <dt className="text-xs text-slate-600 dark:text-slate-400">{label}</dt>
              <dd className="break-all font-mono text-xs">{value}</dd>
            </div>
          ))}
        </dl>
      </Card>
      <Card title="Load">
        <TimeChart label={`Load of ${s.name}`} series={[{ label: "1 min", colour: "#10b981" }]} data={[columns[0], columns[CHARTS.length + 1]]} format={(v) => v.toFixed(2)} />
      </Card>
      <ErrorNote error={error} what="Live metrics" />
      {CHARTS.map((chart, i) => (
        <Card key={chart.field} title={chart.title}>
          <TimeChart label={`${chart.title} of ${s.name}`} series={[{ label: chart.title, colour: chart.colour }]} data={[columns[0], columns[i + 1]]} format={(v) => percent(v)} max={100} />
        </Card>
      ))}
    </div>
  );
}
