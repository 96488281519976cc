/** Compose stacks (SkyPort's and adopted ones): deploy, start/stop/restart, update, down. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { lazy, Suspense, useState, type FormEvent } from "react";
import { Link } from "wouter";
import { api } from "@/api/http";
import { useCan } from "@/api/session";
import { DataTable } from "@/components/DataTable";
import { ConfirmDialog, Dialog } from "@/components/Dialog";
import { ListBody } from "@/components/ListPage";
import { Button, ErrorNote, Field, inputClass, Loading, PageHeader, StateBadge } from "@/components/ui";

const CodeEditor = lazy(() => import("@/components/CodeEditor"));
const STARTER = "services:\n  web:\n    image: \n";
import { useDockerEvents, useEngine, withEngine } from "./api";
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

interface StackDetail extends StackSummary {
  members: { id: string; name: string; service: string; state: string; status: string }[];
  compose: string | null;
  warnings: string[];
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
  const [opened, setOpened] = useState<string | null>(null);
  const [compose, setCompose] = useState(STARTER);
  const refresh = () => void client.invalidateQueries({ queryKey: ["docker", "containers"] });
  const act = useMutation({
    mutationFn: ({ name, action }: { name: string; action: StackAction }) => api(`/docker/stacks/${encodeURIComponent(name)}/${action}`, { method: "POST", query: { engine } }),
    onSettled: refresh,
  });
  const down = useMutation({ mutationFn: (name: string) => api(`/docker/stacks/${encodeURIComponent(name)}`, { method: "DELETE", query: { engine } }), onSettled: refresh });
  const deploy = useMutation({
    mutationFn: (body: Record<string, unknown>) => api("/docker/stacks", { method: "POST", body, query: { engine } }),
    onSuccess: () => {
      setDeploying(false);
      setCompose(STARTER);
    },
    onSettled: refresh,
  });
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    deploy.mutate({ name: String(form.get("name")).trim(), compose, env: envMapping(String(form.get("env"))) });
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
              {
                title: "Name",
                render: (s) => (
                  <button type="button" className="font-medium text-sky-700 hover:underline dark:text-sky-400" onClick={() => setOpened(s.name)}>
                    {s.name}
                  </button>
                ),
              },
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
          <div className="text-sm">
            <p className="mb-0.5 font-medium">compose.yaml</p>
            <Suspense fallback={<Loading what="Loading the editor" />}>
              <CodeEditor label="compose.yaml" value={compose} onChange={setCompose} />
            </Suspense>
            <p className="mt-0.5 text-xs text-slate-600 dark:text-slate-400">Checked by Compose on the server before anything starts.</p>
          </div>
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
      {opened ? <StackDialog name={opened} engine={engine} canWrite={canWrite} onClose={() => setOpened(null)} /> : null}
      <ConfirmDialog open={downing !== null} onOpenChange={(o) => !o && setDowning(null)} title={`Take ${downing ?? ""} down?`} confirmLabel="Down" onConfirm={() => downing && down.mutate(downing)}>
        <p className="text-sm">Its containers and networks are removed (compose down); named volumes stay.</p>
      </ConfirmDialog>
    </div>
  );
}

/** One stack: its containers (each links to its logs) and, for SkyPort's stacks, the compose
 * file to change and apply (`update`: pull and recreate). */
function StackDialog({ name, engine, canWrite, onClose }: { name: string; engine?: string; canWrite: boolean; onClose: () => void }) {
  const client = useQueryClient();
  const stack = useQuery({ queryKey: ["docker", "containers", "stack", engine ?? "", name], queryFn: () => api<StackDetail>(`/docker/stacks/${encodeURIComponent(name)}`, { query: { engine } }) });
  const [compose, setCompose] = useState<string | null>(null);
  const update = useMutation({
    mutationFn: (text: string) => api(`/docker/stacks/${encodeURIComponent(name)}/update`, { method: "POST", body: { compose: text }, query: { engine } }),
    onSuccess: () => setCompose(null),
    onSettled: () => void client.invalidateQueries({ queryKey: ["docker", "containers"] }),
  });
  return (
    <Dialog open onOpenChange={(open) => !open && onClose()} title={`Stack ${name}`} wide>
      {stack.isPending ? <Loading /> : stack.error ? <ErrorNote error={stack.error} what="Cannot read the stack" /> : (
        <div className="space-y-3">
          <DataTable
            label={`Containers of ${name}`}
            rows={stack.data.members}
            rowKey={(m) => m.id}
            columns={[
              { title: "Service", render: (m) => m.service, className: "font-medium" },
              { title: "Container", render: (m) => <Link href={withEngine(`/containers/${m.id.slice(0, 12)}`, engine)} className="text-sky-700 underline dark:text-sky-400">{m.name}</Link> },
              { title: "State", render: (m) => <StateBadge state={m.state} /> },
              { title: "Status", render: (m) => m.status, className: "text-xs" },
            ]}
          />
          <p className="text-xs text-slate-600 dark:text-slate-400">A container's page has its live logs.</p>
          {stack.data.compose !== null && canWrite ? (
            <div className="text-sm">
              <p className="mb-0.5 font-medium">compose.yaml</p>
              <Suspense fallback={<Loading what="Loading the editor" />}>
                <CodeEditor label={`compose.yaml of ${name}`} value={stack.data.compose} onChange={setCompose} />
              </Suspense>
              <ErrorNote error={update.error} what="Cannot update" />
              <div className="mt-2 flex justify-end gap-2">
                <Button variant="primary" disabled={compose === null || update.isPending} onClick={() => compose !== null && update.mutate(compose)}>
                  {update.isPending ? "Updating…" : "Apply changes"}
                </Button>
              </div>
            </div>
          ) : stack.data.compose !== null ? (
            <pre className="max-h-64 overflow-auto rounded bg-slate-100 p-2 text-xs dark:bg-slate-800">{stack.data.compose}</pre>
          ) : (
            <p className="text-sm text-slate-600 dark:text-slate-400">Deployed outside SkyPort: its compose file stays where it was made.</p>
          )}
        </div>
      )}
    </Dialog>
  );
}
