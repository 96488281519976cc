/** Servers (VPS): the inventory with tags and live health; add, import, trust, run, remove. */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { Link } from "wouter";
import { api } from "@/api/http";
import { useCan } from "@/api/session";
import { DataTable, type Column } from "@/components/DataTable";
import { ConfirmDialog, Dialog } from "@/components/Dialog";
import { percent } from "@/components/format";
import { ListBody } from "@/components/ListPage";
import { useSelection } from "@/components/selection";
import { Button, ErrorNote, inputLook, PageHeader, StateBadge } from "@/components/ui";
import { AddServerDialog } from "./AddServerDialog";
import { serverPath, SERVERS_KEY, useServerHealth, useServers, type ServerInfo, type ServerMetrics } from "./api";
import { ImportDialog } from "./ImportDialog";
import { RunCommand } from "./RunCommand";
import { TrustDialog } from "./TrustDialog";

/** "up · CPU 3 % · mem 41 % · disk 60 %", or why it is down. */
export function healthText(health: ServerMetrics | undefined): string {
  if (!health) return "not sampled yet";
  if (!health.up) return health.error ?? "down";
  return `CPU ${percent(health.cpu_percent)} · memory ${percent(health.memory_percent)} · disk ${percent(health.disk_percent)}`;
}

export function Health({ health }: { health: ServerMetrics | undefined }) {
  return (
    <span className="inline-flex min-w-0 items-center gap-1">
      {health ? <StateBadge state={health.up ? "up" : "down"} /> : null}
      <span className="truncate text-xs text-slate-600 dark:text-slate-400" title={healthText(health)}>
        {healthText(health)}
      </span>
    </span>
  );
}

export default function ServersPage() {
  const client = useQueryClient();
  const servers = useServers();
  const { health, error: healthError } = useServerHealth();
  const canWrite = useCan("vps:write");
  const canRun = useCan("vps:run");
  const selection = useSelection();
  const [tag, setTag] = useState("");
  const [dialog, setDialog] = useState<"add" | "import" | "run" | null>(null);
  const [trusting, setTrusting] = useState<ServerInfo | null>(null);
  const [removing, setRemoving] = useState<ServerInfo | null>(null);
  const remove = useMutation({
    mutationFn: (name: string) => api(serverPath(name), { method: "DELETE" }),
    onSettled: () => void client.invalidateQueries({ queryKey: SERVERS_KEY }),
  });
  const tags = useMemo(() => [...new Set((servers.data ?? []).flatMap((s) => s.tags))].sort(), [servers.data]);
  const filtered = useMemo(() => (servers.data ?? []).filter((s) => !tag || s.tags.includes(tag)), [servers.data, tag]);
  const chosen = filtered.map((s) => s.name).filter((n) => selection.selected.has(n));
  const columns: Column<ServerInfo>[] = [
    {
      title: "Name",
      className: "font-medium",
      render: (s) => (
        <Link href={`/servers/${encodeURIComponent(s.name)}`} className="text-sky-700 hover:underline dark:text-sky-400">
          {s.name}
        </Link>
      ),
    },
    { title: "Address", render: (s) => `${s.user}@${s.host}:${s.port}${s.jump ? ` via ${s.jump}` : ""}`, className: "font-mono text-xs" },
    { title: "Tags", render: (s) => (s.tags.length ? s.tags.join(", ") : "–"), className: "text-xs" },
    { title: "Health", render: (s) => <Health health={health.get(s.name)} /> },
    {
      title: "Host key",
      render: (s) =>
        s.trusted ? (
          <StateBadge state="trusted" />
        ) : canWrite ? (
          <Button small variant="primary" aria-label={`Trust the host key of ${s.name}`} onClick={() => setTrusting(s)}>
            Trust key
          </Button>
        ) : (
          <StateBadge state="untrusted" />
        ),
    },
  ];
  return (
    <div>
      <PageHeader title="Servers">
        {tags.length ? (
          <label className="flex items-center gap-1 text-sm">
            Tag
            <select className={`${inputLook} w-auto`} value={tag} onChange={(e) => setTag(e.target.value)}>
              <option value="">any</option>
              {tags.map((t) => (
                <option key={t}>{t}</option>
              ))}
            </select>
          </label>
        ) : null}
        {canRun ? <Button onClick={() => setDialog("run")}>Run command</Button> : null}
        {canWrite ? (
          <>
            <Button onClick={() => setDialog("import")}>Import SSH config</Button>
            <Button variant="primary" onClick={() => setDialog("add")}>
              Add server
            </Button>
          </>
        ) : null}
      </PageHeader>
      <ErrorNote error={healthError} what="Live health" />
      <ErrorNote error={remove.error} what="Cannot remove" />
      <ListBody query={servers} what="servers" empty={canWrite ? "Add one with “Add server”, or import your SSH config." : "Ask an operator to add one."}>
        {() => (
          <DataTable
            label="Servers"
            rows={filtered}
            rowKey={(s) => s.name}
            rowData={(s) => s.name}
            selection={canRun ? selection : undefined}
            columns={columns}
            actions={
              canWrite
                ? (s) => (
                    <Button small variant="danger" aria-label={`Remove ${s.name}`} onClick={() => setRemoving(s)}>
                      Remove
                    </Button>
                  )
                : undefined
            }
          />
        )}
      </ListBody>
      {dialog === "add" ? <AddServerDialog servers={servers.data ?? []} onClose={() => setDialog(null)} /> : null}
      {dialog === "import" ? <ImportDialog onClose={() => setDialog(null)} /> : null}
      <Dialog open={dialog === "run"} onOpenChange={(open) => !open && setDialog(null)} title="Run a command" wide>
        <RunCommand selected={chosen} tags={tags} />
      </Dialog>
      {trusting ? <TrustDialog server={trusting} onClose={() => setTrusting(null)} /> : null}
      <ConfirmDialog open={removing !== null} onOpenChange={(open) => !open && setRemoving(null)} title={`Remove ${removing?.name ?? ""}?`} confirmLabel="Remove" onConfirm={() => removing && remove.mutate(removing.name)}>
        <p className="text-sm">SkyPort forgets the server and its stored credentials; nothing on the server changes.</p>
      </ConfirmDialog>
    </div>
  );
}
