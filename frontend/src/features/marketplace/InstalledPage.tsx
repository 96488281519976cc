/** Installed apps: their live status; start, stop, update and uninstall (the last two as jobs,
 * followed live). */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Link } from "wouter";
import { api } from "@/api/http";
import { useCan } from "@/api/session";
import { DataTable } from "@/components/DataTable";
import { ConfirmDialog } from "@/components/Dialog";
import { datetime } from "@/components/format";
import { JobProgress, useJob } from "@/components/JobProgress";
import { ListBody } from "@/components/ListPage";
import { Button, Card, ErrorNote, PageHeader, StateBadge } from "@/components/ui";
import { INSTALLED_KEY, installedPath, JOB_DONE, jobTopic, loadJob, useInstalled, type InstalledApp } from "./api";

interface Running {
  job: string;
  what: string;
}

export default function InstalledPage() {
  const client = useQueryClient();
  const installed = useInstalled();
  const canInstall = useCan("marketplace:install");
  const [running, setRunning] = useState<Running | null>(null);
  const [removing, setRemoving] = useState<InstalledApp | null>(null);
  const [removeData, setRemoveData] = useState(false);
  const refresh = () => void client.invalidateQueries({ queryKey: INSTALLED_KEY });
  const act = useMutation({
    mutationFn: ({ app, action }: { app: InstalledApp; action: "start" | "stop" }) => api(`${installedPath(app.name)}/${action}`, { method: "POST" }),
    onSettled: refresh,
  });
  const job = useMutation({
    mutationFn: async ({ app, action }: { app: InstalledApp; action: "update" | "uninstall" }) => {
      const started =
        action === "update"
          ? await api<{ job: string }>(`${installedPath(app.name)}/update`, { method: "POST" })
          : await api<{ job: string }>(installedPath(app.name), { method: "DELETE", query: { remove_data: removeData } });
      return { job: started.job, what: `${action === "update" ? "Updating" : "Uninstalling"} ${app.name}` };
    },
    onSuccess: setRunning,
    onSettled: refresh,
  });
  const followed = useJob(jobTopic(running?.job ?? null), loadJob(running?.job ?? ""), "job");
  useEffect(() => {
    if (followed.ended) void client.invalidateQueries({ queryKey: INSTALLED_KEY });
  }, [followed.ended, client]);
  return (
    <div>
      <PageHeader title="Installed apps">
        <Link href="/marketplace" className="text-sm text-sky-700 underline dark:text-sky-400">
          Browse the marketplace
        </Link>
      </PageHeader>
      <ErrorNote error={act.error ?? job.error} what="Failed" />
      {running ? (
        <Card title={running.what} className="mb-3" actions={followed.ended ? <Button small onClick={() => setRunning(null)}>Close</Button> : null}>
          <JobProgress what={running.what} followed={followed} good={JOB_DONE} />
        </Card>
      ) : null}
      <ListBody query={installed} what="installed apps" empty="Install one from the marketplace.">
        {(rows) => (
          <DataTable
            label="Installed apps"
            rows={rows}
            rowKey={(a) => a.name}
            rowData={(a) => a.name}
            columns={[
              { title: "Name", render: (a) => a.name, className: "font-medium" },
              {
                title: "App",
                render: (a) => (
                  <Link href={`/marketplace/${encodeURIComponent(a.app_id)}`} className="text-sky-700 hover:underline dark:text-sky-400">
                    {a.title}
                  </Link>
                ),
              },
              { title: "Kind", render: (a) => a.kind, className: "text-xs" },
              { title: "Install", render: (a) => <StateBadge state={a.state} /> },
              {
                title: "Status",
                render: (a) => (a.status ? <StateBadge state={a.status.state} /> : a.status_error ? <span className="text-xs text-red-700 dark:text-red-400">{a.status_error}</span> : "–"),
              },
              { title: "Installed", render: (a) => `${datetime(a.created)} by ${a.created_by}`, className: "text-xs" },
            ]}
            actions={
              canInstall
                ? (a) => {
                    const busy = act.isPending || job.isPending || a.state !== "installed";
                    const up = a.status?.state === "running";
                    return (
                      <>
                        <Button small className="ml-1" disabled={busy} aria-label={`${up ? "Stop" : "Start"} ${a.name}`} onClick={() => act.mutate({ app: a, action: up ? "stop" : "start" })}>
                          {up ? "Stop" : "Start"}
                        </Button>
                        <Button small className="ml-1" disabled={busy} aria-label={`Update ${a.name}`} onClick={() => job.mutate({ app: a, action: "update" })}>
                          Update
                        </Button>
                        <Button small className="ml-1" variant="danger" disabled={job.isPending} aria-label={`Uninstall ${a.name}`} onClick={() => setRemoving(a)}>
                          Uninstall
                        </Button>
                      </>
                    );
                  }
                : undefined
            }
          />
        )}
      </ListBody>
      <ConfirmDialog
        open={removing !== null}
        onOpenChange={(open) => !open && setRemoving(null)}
        title={`Uninstall ${removing?.name ?? ""}?`}
        confirmLabel="Uninstall"
        onConfirm={() => removing && job.mutate({ app: removing, action: "uninstall" })}
      >
        <p className="text-sm">What the install made is removed: its containers, stack or process.</p>
        <label className="mt-2 flex items-center gap-2 text-sm">
          <input type="checkbox" checked={removeData} onChange={(e) => setRemoveData(e.target.checked)} /> Remove its data volumes too
        </label>
      </ConfirmDialog>
    </div>
  );
}
