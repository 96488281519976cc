/** One container: details (inspect), live logs, live stats and a terminal. */
import * as Tabs from "@radix-ui/react-tabs";
import { useMutation, useQuery } from "@tanstack/react-query";
import { lazy, Suspense } from "react";
import { Link, useParams } from "wouter";
import { api } from "@/api/http";
import { useCan } from "@/api/session";
import { datetime } from "@/components/format";
import { TAB } from "@/components/tabs";
import { Button, Card, ErrorNote, Loading, PageHeader, StateBadge } from "@/components/ui";
import { ACTION_LABELS, actionsFor, containerAction, useDockerEvents, useEngine, withEngine } from "./api";
import { ContainerLogs } from "./ContainerLogs";
import { ContainerStatsCharts } from "./ContainerStatsCharts";

const Terminal = lazy(() => import("@/components/Terminal"));

interface Inspect {
  Id: string;
  Name: string;
  Created: string;
  Path: string;
  Args: string[];
  State: { Status: string; StartedAt: string; ExitCode: number; Error: string };
  Config: { Image: string; Env: string[] | null; Labels: Record<string, string> | null; Cmd: string[] | null; WorkingDir: string; User: string };
  HostConfig: { RestartPolicy?: { Name: string }; NetworkMode: string; Memory: number; NanoCpus: number };
  Mounts: { Type: string; Source: string; Destination: string; RW: boolean; Name?: string }[];
  NetworkSettings: { Ports: Record<string, { HostIp: string; HostPort: string }[] | null> | null };
}

export default function ContainerPage() {
  const { id } = useParams<{ id: string }>();
  const engine = useEngine();
  const canWrite = useCan("docker:write");
  const canExec = useCan("docker:exec");
  useDockerEvents();
  const inspect = useQuery({
    queryKey: ["docker", "containers", engine ?? "", "inspect", id],
    queryFn: () => api<Inspect>(`/docker/containers/${encodeURIComponent(id)}`, { query: { engine } }),
  });
  const act = useMutation({
    mutationFn: (action: Parameters<typeof containerAction>[1]) => containerAction(id, action, engine),
    onSettled: () => void inspect.refetch(),
  });
  if (inspect.isPending) return <Loading what="Loading the container" />;
  if (inspect.error)
    return (
      <div>
        <ErrorNote error={inspect.error} what={`Container ${id}`} />
        <p className="mt-2 text-sm">
          <Link href={withEngine("/containers", engine)} className="text-sky-700 underline">
            Back to the containers
          </Link>
        </p>
      </div>
    );
  const c = inspect.data;
  const name = c.Name.replace(/^\//, "");
  const target = engine ? `${engine}/${c.Id}` : c.Id;
  return (
    <div>
      <PageHeader title={name}>
        <StateBadge state={c.State.Status} />
        {canWrite
          ? actionsFor(c.State.Status)
              .filter((a) => a !== "remove")
              .map((action) => (
                <Button key={action} small aria-label={`${ACTION_LABELS[action]} ${name}`} disabled={act.isPending} onClick={() => act.mutate(action)}>
                  {ACTION_LABELS[action]}
                </Button>
              ))
          : null}
      </PageHeader>
      <ErrorNote error={act.error} what="Action failed" />
      <Tabs.Root defaultValue="details">
        <Tabs.List aria-label="Container views" className="flex gap-1 border-b border-slate-200 dark:border-slate-800">
          <Tabs.Trigger value="details" className={TAB}>Details</Tabs.Trigger>
          <Tabs.Trigger value="logs" className={TAB}>Logs</Tabs.Trigger>
          <Tabs.Trigger value="stats" className={TAB}>Stats</Tabs.Trigger>
          {canExec ? <Tabs.Trigger value="terminal" className={TAB}>Terminal</Tabs.Trigger> : null}
        </Tabs.List>
        <Tabs.Content value="details" className="pt-3">
          <Details c={c} />
        </Tabs.Content>
        <Tabs.Content value="logs" className="pt-3">
          <ContainerLogs id={c.Id} name={name} engine={engine} />
        </Tabs.Content>
        <Tabs.Content value="stats" className="pt-3">
          <ContainerStatsCharts id={c.Id} engine={engine} running={c.State.Status === "running"} />
        </Tabs.Content>
        {canExec ? (
          <Tabs.Content value="terminal" className="pt-3">
            {c.State.Status === "running" ? (
              <Suspense fallback={<Loading what="Loading the terminal" />}>
                <Terminal provider="docker" target={target} label={`Terminal in ${name}`} />
              </Suspense>
            ) : (
              <ErrorNote error="The container is not running: start it to open a terminal." />
            )}
          </Tabs.Content>
        ) : null}
      </Tabs.Root>
    </div>
  );
}

function Row({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <>
      <dt className="text-xs text-slate-600 dark:text-slate-400">{label}</dt>
      <dd className="break-all font-mono text-xs">{children}</dd>
    </>
  );
}

function Details({ c }: { c: Inspect }) {
  const ports = Object.entries(c.NetworkSettings.Ports ?? {}).map(([inside, bound]) =>
    bound?.length ? bound.map((b) => `${b.HostIp || "0.0.0.0"}:${b.HostPort}→${inside}`).join(", ") : inside,
  );
  return (
    <div className="grid gap-3 lg:grid-cols-2">
      <Card title="Container">
        <dl className="grid grid-cols-[8rem_1fr] gap-x-3 gap-y-1">
          <Row label="ID">{c.Id}</Row>
          <Row label="Image">{c.Config.Image}</Row>
          <Row label="Command">{[c.Path, ...c.Args].join(" ")}</Row>
          <Row label="Created">{datetime(Date.parse(c.Created) / 1000)}</Row>
          <Row label="Started">{c.State.StartedAt.startsWith("0001") ? "–" : datetime(Date.parse(c.State.StartedAt) / 1000)}</Row>
          <Row label="Exit code">{c.State.ExitCode}</Row>
          <Row label="Restart">{c.HostConfig.RestartPolicy?.Name || "no"}</Row>
          <Row label="Network">{c.HostConfig.NetworkMode}</Row>
          <Row label="Ports">{ports.join(", ") || "–"}</Row>
          <Row label="User">{c.Config.User || "–"}</Row>
          <Row label="Working dir">{c.Config.WorkingDir || "–"}</Row>
        </dl>
      </Card>
      <Card title="Environment">
        {c.Config.Env?.length ? (
          <ul className="font-mono text-xs">
            {c.Config.Env.map((line) => (
              <li key={line}>{line}</li>
            ))}
          </ul>
        ) : (
          <p className="text-sm text-slate-600 dark:text-slate-400">No environment variables.</p>
        )}
      </Card>
      <Card title="Mounts">
        {c.Mounts.length ? (
          <ul className="font-mono text-xs">
            {c.Mounts.map((m) => (
              <li key={m.Destination}>
                {m.Name ?? m.Source} → {m.Destination} ({m.Type}{m.RW ? "" : ", read-only"})
              </li>
            ))}
          </ul>
        ) : (
          <p className="text-sm text-slate-600 dark:text-slate-400">No mounts.</p>
        )}
      </Card>
      <Card title="Labels">
        {Object.keys(c.Config.Labels ?? {}).length ? (
          <ul className="font-mono text-xs">
            {Object.entries(c.Config.Labels ?? {}).map(([k, v]) => (
              <li key={k}>
                {k}={v}
              </li>
            ))}
          </ul>
        ) : (
          <p className="text-sm text-slate-600 dark:text-slate-400">No labels.</p>
        )}
      </Card>
    </div>
  );
}
