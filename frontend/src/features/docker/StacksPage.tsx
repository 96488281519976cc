/** Compose stacks (SkyPort's and adopted ones): deploy, start/stop/restart, update, down. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api } from "@/api/http";
import { useCan } from "@/api/session";
import { DataTable } from "@/components/DataTable";
import { ConfirmDialog, Dialog } from "@/components/Dialog";
import { ListBody } from "@/components/ListPage";
import { Button, ErrorNote, Field, inputClass, PageHeader, StateBadge } from "@/components/ui";
import { useDockerEvents, useEngine } from "./api";
import { EnginePicker } from "./EnginePicker";
import { items } from "./RunDialog";

interface StackSummary {
  name: string;
  status: string;
  services: string[];
  containers: number;
  running: number;
  managed: boolean;
  working_dir: string | null;
}

type StackAction = "start" | "stop" | "restart" | "update";

/** `KEY=value` lines as the `.env` mapping the API takes. */
export function envMapping(text: string): Record<string, string> {
  return Object.fromEntries((items(text) ?? []).map((line) => [line.split("=", 1)[0], line.slice(line.indexOf("=") + 1)]));
}

export default function StacksPage() {
  const engine = useEngine();
  const client = useQueryClient();
  const canWrite = useCan("docker:write");
  useDockerEvents();
  const stacks = useQuery({ queryKey: ["docker", "containers", "stacks", engine ?? ""], queryFn: () => api<StackSummary[]>("/docker/stacks", { query: { engine } }) });
  const [deploying, setDeploying] = useState(false);
  const [downing, setDowning] = useState<string | null>(null);
  const refresh = () => void client.invalidateQueries({ queryKey: ["docker", "containers"] });
  const act = useMutation({
    mutationFn: ({ name, action }: { name: string; action: StackAction }) => api(`/docker/stacks/${encodeURIComponent(name)}/${action}`, { method: "POST", query: { engine } }),
    onSettled: refresh,
  });
  const down = useMutation({ mutationFn: (name: string) => api(`/docker/stacks/${encodeURIComponent(name)}`, { method: "DELETE", query: { engine } }), onSettled: refresh });
  const deploy = useMutation({
    mutationFn: (body: Record<string, unknown>) => api("/docker/stacks", { method: "POST", body, query: { engine } }),
    onSuccess: () => setDeploying(false),
    onSettled: refresh,
  });
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    deploy.mutate({ name: String(form.get("name")).trim(), compose: String(form.get("compose")), env: envMapping(String(form.get("env"))) });
  }
  return (
    <div>
      <PageHeader title="Stacks">
        <EnginePicker />
        {canWrite ? (
          <Button variant="primary" onClick={() => setDeploying(true)}>
            Deploy stack
          </Button>
        ) : null}
      </PageHeader>
      <ErrorNote error={act.error ?? down.error} what="Failed" />
      <ListBody query={stacks} what="stacks" empty={canWrite ? "Deploy one from a compose file with “Deploy stack”." : "Stacks deployed with Compose appear here."}>
        {(rows) => (
          <DataTable
            label="Stacks"
            rows={rows}
            rowKey={(s) => s.name}
            columns={[
              { title: "Name", render: (s) => s.name, className: "font-medium" },
              { title: "State", render: (s) => <StateBadge state={s.status} /> },
              { title: "Services", render: (s) => s.services.join(", ") },
              { title: "Running", render: (s) => `${s.running} / ${s.containers}` },
              { title: "Source", render: (s) => (s.managed ? "SkyPort" : (s.working_dir ?? "outside SkyPort")), className: "text-xs" },
            ]}
            actions={
              canWrite
                ? (s) => (
                    <>
                      {(["start", "stop", "restart", "update"] as StackAction[]).map((action) => (
                        <Button key={action} small className="ml-1" disabled={act.isPending} aria-label={`${action} ${s.name}`} onClick={() => act.mutate({ name: s.name, action })}>
                          {action[0].toUpperCase() + action.slice(1)}
                        </Button>
                      ))}
                      <Button small className="ml-1" variant="danger" aria-label={`Down ${s.name}`} onClick={() => setDowning(s.name)}>
                        Down
                      </Button>
                    </>
                  )
                : undefined
            }
          />
        )}
      </ListBody>
      <Dialog open={deploying} onOpenChange={setDeploying} title="Deploy a stack" wide>
        <form onSubmit={submit} className="space-y-3">
          <Field label="Name" hint="Lower-case letters, digits, - and _">
            <input name="name" required className={inputClass} />
          </Field>
          <Field label="compose.yaml" hint="Checked by Compose on the server before anything starts">
            <textarea name="compose" required rows={14} spellCheck={false} className={`${inputClass} font-mono text-xs`} defaultValue={"services:\n  web:\n    image: \n"} />
          </Field>
          <Field label=".env" hint="One KEY=value per line">
            <textarea name="env" rows={3} spellCheck={false} className={`${inputClass} font-mono text-xs`} />
          </Field>
          <ErrorNote error={deploy.error} what="Cannot deploy" />
          <div className="flex justify-end gap-2">
            <Button onClick={() => setDeploying(false)}>Cancel</Button>
            <Button type="submit" variant="primary" disabled={deploy.isPending}>
              {deploy.isPending ? "Deploying…" : "Deploy"}
            </Button>
          </div>
        </form>
      </Dialog>
      <ConfirmDialog open={downing !== null} onOpenChange={(o) => !o && setDowning(null)} title={`Take ${downing ?? ""} down?`} confirmLabel="Down" onConfirm={() => downing && down.mutate(downing)}>
        <p className="text-sm">Its containers and networks are removed (compose down); named volumes stay.</p>
      </ConfirmDialog>
    </div>
  );
}
