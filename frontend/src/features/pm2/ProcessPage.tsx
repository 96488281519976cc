/** One app's processes (every instance of a name): live logs, details, environment, actions. */
import * as Tabs from "@radix-ui/react-tabs";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useMemo, useState } from "react";
import { Link, useLocation, useParams } from "wouter";
import { useTopic } from "@/api/hooks";
import { api } from "@/api/http";
import { isAdmin, useCan, useUser } from "@/api/session";
import { DataTable } from "@/components/DataTable";
import { ConfirmDialog } from "@/components/Dialog";
import { bytes, datetime, duration, percent } from "@/components/format";
import { LogView } from "@/components/LogView";
import { TAB } from "@/components/tabs";
import { Banner, Button, Card, ErrorNote, Loading, PageHeader, StateBadge } from "@/components/ui";
import { ACTION_LABELS, actionsFor, processAction, processPath, usePm2Events, type OutputLine, type ProcessAction, type ProcessDetail } from "./api";
import { joinOutput, type LiveOutput } from "./output";
import { ScaleDialog } from "./ScaleDialog";

const PAST_LINES = 300;
const KEEP = 5000;

export default function ProcessPage() {
  const name = decodeURIComponent(useParams<{ name: string }>().name);
  const [, navigate] = useLocation();
  const client = useQueryClient();
  const canWrite = useCan("pm2:write");
  usePm2Events();
  const detail = useQuery({ queryKey: ["pm2", "describe", name], queryFn: () => api<ProcessDetail[]>(processPath(name)), refetchInterval: 5_000 });
  const [scaling, setScaling] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const act = useMutation({
    mutationFn: (action: ProcessAction) => processAction(name, action),
    onSuccess: (_rows, action) => (action === "delete" ? navigate("/processes") : undefined),
    onSettled: () => void client.invalidateQueries({ queryKey: ["pm2"] }),
  });
  if (detail.isPending) return <Loading what="Loading the process" />;
  if (detail.error)
    return (
      <div>
        <ErrorNote error={detail.error} what={`Process ${name}`} />
        <p className="mt-2 text-sm">
          <Link href="/processes" className="text-sky-700 underline dark:text-sky-400">
            Back to the processes
          </Link>
        </p>
      </div>
    );
  const instances = detail.data;
  const first = instances[0];
  const online = instances.some((p) => p.status === "online");
  return (
    <div>
      <PageHeader title={name}>
        {[...new Set(instances.map((p) => p.status))].map((s) => (
          <StateBadge key={s} state={s} />
        ))}
        {canWrite
          ? actionsFor(online ? "online" : "stopped", first.mode).map((action) => (
              <Button
                key={action}
                small
                variant={action === "delete" ? "danger" : "default"}
                disabled={act.isPending}
                aria-label={`${ACTION_LABELS[action]} ${name}`}
                onClick={() => (action === "delete" ? setDeleting(true) : act.mutate(action))}
              >
                {ACTION_LABELS[action]}
              </Button>
            ))
          : null}
        {canWrite ? (
          <Button small onClick={() => setScaling(true)}>
            Scale
          </Button>
        ) : null}
      </PageHeader>
      <ErrorNote error={act.error} what="Action failed" />
      <Tabs.Root defaultValue="logs">
        <Tabs.List aria-label="Process views" className="flex gap-1 border-b border-slate-200 dark:border-slate-800">
          <Tabs.Trigger value="logs" className={TAB}>
            Logs
          </Tabs.Trigger>
          <Tabs.Trigger value="details" className={TAB}>
            Details
          </Tabs.Trigger>
          <Tabs.Trigger value="env" className={TAB}>
            Environment
          </Tabs.Trigger>
        </Tabs.List>
        <Tabs.Content value="logs" className="pt-3">
          <ProcessLogs name={name} several={instances.length > 1} />
        </Tabs.Content>
        <Tabs.Content value="details" className="pt-3">
          <Details instances={instances} />
        </Tabs.Content>
        <Tabs.Content value="env" className="pt-3">
          <Environment name={name} keys={Object.keys(first.env)} />
        </Tabs.Content>
      </Tabs.Root>
      {scaling ? <ScaleDialog process={{ ...first, watch: Boolean(first.watch), instances: instances.length }} onClose={() => setScaling(false)} /> : null}
      <ConfirmDialog open={deleting} onOpenChange={setDeleting} title={`Delete ${name}?`} confirmLabel="Delete" onConfirm={() => act.mutate("delete")}>
        <p className="text-sm">Every instance is stopped and PM2 forgets it; its log files stay.</p>
      </ConfirmDialog>
    </div>
  );
}

function ProcessLogs({ name, several }: { name: string; several: boolean }) {
  const [follow, setFollow] = useState(true);
  const [live, setLive] = useState<LiveOutput[]>([]);
  const past = useQuery({
    queryKey: ["pm2", "logs", name],
    queryFn: () => api<{ lines: (Omit<OutputLine, "text"> & { line: string })[]; at: number }>(`${processPath(name)}/logs`, { query: { lines: PAST_LINES } }),
    staleTime: Infinity,
  });
  const onOutput = useCallback((data: unknown) => setLive((old) => [...old, data as LiveOutput].slice(-KEEP)), []);
  // Following starts with the page, beside the past lines: nothing printed in between is lost.
  const error = useTopic(follow ? `pm2.logs:${name}` : null, onOutput);
  const lines = useMemo(() => {
    const before = (past.data?.lines ?? []).map((l) => ({ ...l, text: l.line }));
    return joinOutput(before, past.data?.at ?? null, live).map((l) => ({
      text: l.text,
      err: l.stream === "err",
      prefix: [l.at ? new Date(l.at).toLocaleTimeString() : "", several ? `[${l.pm_id}]` : ""].filter(Boolean).join(" "),
    }));
  }, [past.data, live, several]);
  return <LogView lines={lines} name={name} follow={follow} onFollow={setFollow} error={past.error ?? error} />;
}

function Details({ instances }: { instances: ProcessDetail[] }) {
  const p = instances[0];
  const rows: [string, string][] = [
    ["Script", p.script],
    ["Arguments", p.args.join(" ") || "–"],
    ["Working dir", p.cwd],
    ["Interpreter", [p.interpreter, ...p.interpreter_args].join(" ")],
    ["Node.js", p.node_version ?? "–"],
    ["Mode", p.mode],
    ["Namespace", p.namespace],
    ["Restart when it exits", p.autorestart ? "yes" : "no"],
    ["Watch", Array.isArray(p.watch) ? p.watch.join(", ") : p.watch ? "yes" : "no"],
    ["Restart above", p.max_memory_restart ? bytes(p.max_memory_restart) : "–"],
    ["Cron restart", p.cron_restart ?? "–"],
    ["Created", datetime(p.created_at)],
    ["Output log", p.out_log ?? "–"],
    ["Error log", p.err_log ?? "–"],
  ];
  return (
    <div className="grid gap-3 lg:grid-cols-2">
      <Card title="How it runs">
        <dl className="grid grid-cols-[9rem_1fr] gap-x-3 gap-y-1">
          {rows.map(([label, value]) => (
            <div key={label} className="contents">
              <dt className="text-xs text-slate-600 dark:text-slate-400">{label}</dt>
              <dd className="break-all font-mono text-xs">{value}</dd>
            </div>
          ))}
        </dl>
      </Card>
      <Card title="Instances">
        <DataTable
          label="Instances"
          rows={instances}
          rowKey={(i) => String(i.pm_id)}
          columns={[
            { title: "id", render: (i) => i.pm_id, className: "font-mono text-xs" },
            { title: "Status", render: (i) => <StateBadge state={i.status} /> },
            { title: "PID", render: (i) => i.pid || "–", className: "font-mono text-xs" },
            { title: "CPU", render: (i) => percent(i.cpu) },
            { title: "Memory", render: (i) => bytes(i.memory) },
            { title: "Restarts", render: (i) => `${i.restarts}${i.unstable_restarts ? ` (${i.unstable_restarts} unstable)` : ""}` },
            { title: "Uptime", render: (i) => (i.status === "online" ? duration(i.uptime) : i.exit_code !== null ? `exited ${i.exit_code}` : "–") },
          ]}
        />
      </Card>
    </div>
  );
}

/** The environment's keys; an admin may ask for the values (audited as a read of secrets). */
function Environment({ name, keys }: { name: string; keys: string[] }) {
  const admin = isAdmin(useUser());
  const reveal = useMutation({ mutationFn: () => api<ProcessDetail[]>(processPath(name), { query: { reveal_env: true } }) });
  const values = reveal.data?.[0]?.env;
  if (keys.length === 0) return <p className="text-sm text-slate-600 dark:text-slate-400">No environment variables.</p>;
  return (
    <Card
      title="Environment"
      actions={
        admin && !values ? (
          <Button small onClick={() => reveal.mutate()} disabled={reveal.isPending}>
            Show values
          </Button>
        ) : null
      }
    >
      {values ? <Banner>These values are secrets: showing them was written to the audit log.</Banner> : null}
      <ErrorNote error={reveal.error} what="Cannot show the values" />
      <ul aria-label="Environment variables" className="font-mono text-xs">
        {keys.map((key) => (
          <li key={key} className="break-all">
            {key}={values ? values[key] : <span className="text-slate-600 dark:text-slate-400">(hidden)</span>}
          </li>
        ))}
      </ul>
      {!admin ? <p className="mt-2 text-xs text-slate-600 dark:text-slate-400">Only an admin can see the values.</p> : null}
    </Card>
  );
}
