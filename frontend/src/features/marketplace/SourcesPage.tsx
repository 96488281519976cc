/** Catalog sources: what each one holds and how its last read went; admins add, refresh and
 * remove them (a read runs as a job, followed live). */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api } from "@/api/http";
import { useCan } from "@/api/session";
import { DataTable } from "@/components/DataTable";
import { ConfirmDialog, Dialog } from "@/components/Dialog";
import { datetime } from "@/components/format";
import { JobProgress, useJob } from "@/components/JobProgress";
import { ListBody } from "@/components/ListPage";
import { Button, ErrorNote, Field, inputClass, PageHeader } from "@/components/ui";
import { JOB_DONE, jobTopic, loadJob, type SourceStatus } from "./api";

const SOURCES = ["marketplace", "sources"];

export default function SourcesPage() {
  const client = useQueryClient();
  const admin = useCan("marketplace:admin");
  const sources = useQuery({ queryKey: SOURCES, queryFn: () => api<SourceStatus[]>("/marketplace/sources"), refetchInterval: 10_000 });
  const [adding, setAdding] = useState(false);
  const [skipped, setSkipped] = useState<SourceStatus | null>(null);
  const [removing, setRemoving] = useState<SourceStatus | null>(null);
  const [reading, setReading] = useState<string | null>(null);
  const refresh = () => void client.invalidateQueries({ queryKey: ["marketplace"] });
  const reread = useMutation({
    mutationFn: (name: string) => api<{ job: string }>(`/marketplace/sources/${encodeURIComponent(name)}/refresh`, { method: "POST" }),
    onSuccess: (started) => setReading(started.job),
  });
  const remove = useMutation({ mutationFn: (name: string) => api(`/marketplace/sources/${encodeURIComponent(name)}`, { method: "DELETE" }), onSettled: refresh });
  const followed = useJob(jobTopic(reading), loadJob(reading ?? ""), "job");
  return (
    <div>
      <PageHeader title="Catalog sources">
        {admin ? (
          <Button variant="primary" onClick={() => setAdding(true)}>
            Add source
          </Button>
        ) : null}
      </PageHeader>
      <ErrorNote error={reread.error ?? remove.error} what="Failed" />
      {reading ? (
        <div className="mb-3">
          <JobProgress what="Reading the catalog" followed={followed} good={JOB_DONE} />
        </div>
      ) : null}
      <ListBody query={sources} what="catalog sources" empty={admin ? "Add one with “Add source”: a Portainer templates file, a CasaOS or Umbrel store, a SkyPort catalog." : "Ask an admin to add one."}>
        {(rows) => (
          <DataTable
            label="Sources"
            rows={rows}
            rowKey={(s) => s.name}
            rowData={(s) => s.name}
            columns={[
              { title: "Name", render: (s) => s.name, className: "font-medium" },
              { title: "Format", render: (s) => s.type },
              { title: "Where", render: (s) => <span className="break-all font-mono text-xs">{s.url}</span> },
              { title: "Apps", render: (s) => s.templates },
              {
                title: "Skipped",
                render: (s) =>
                  s.skipped ? (
                    <button type="button" className="text-sky-700 underline dark:text-sky-400" onClick={() => setSkipped(s)}>
                      {s.skipped} (why)
                    </button>
                  ) : (
                    "0"
                  ),
              },
              { title: "Read", render: (s) => (s.refreshing ? "reading…" : datetime(s.refreshed)), className: "text-xs" },
              { title: "Last error", render: (s) => (s.error ? <span className="text-red-700 dark:text-red-400">{s.error}</span> : "–"), className: "text-xs" },
            ]}
            actions={
              admin
                ? (s) => (
                    <>
                      <Button small className="ml-1" disabled={reread.isPending} aria-label={`Refresh ${s.name}`} onClick={() => reread.mutate(s.name)}>
                        Refresh
                      </Button>
                      {s.origin === "api" ? (
                        <Button small className="ml-1" variant="danger" aria-label={`Remove ${s.name}`} onClick={() => setRemoving(s)}>
                          Remove
                        </Button>
                      ) : null}
                    </>
                  )
                : undefined
            }
          />
        )}
      </ListBody>
      {adding ? (
        <AddSource
          onClose={() => setAdding(false)}
          onAdded={(job) => {
            setAdding(false);
            setReading(job);
            refresh();
          }}
        />
      ) : null}
      <Dialog open={skipped !== null} onOpenChange={(open) => !open && setSkipped(null)} title={`Skipped in ${skipped?.name ?? ""}`} wide>
        <ul className="space-y-1 text-sm">
          {skipped?.skipped_reasons.map((s, i) => (
            <li key={i}>
              <span className="font-mono text-xs">{s.item}</span>: {s.reason}
            </li>
          ))}
        </ul>
      </Dialog>
      <ConfirmDialog open={removing !== null} onOpenChange={(open) => !open && setRemoving(null)} title={`Remove the source ${removing?.name ?? ""}?`} confirmLabel="Remove" onConfirm={() => removing && remove.mutate(removing.name)}>
        <p className="text-sm">Its apps leave the catalog; apps installed from it stay installed.</p>
      </ConfirmDialog>
    </div>
  );
}

function AddSource({ onClose, onAdded }: { onClose: () => void; onAdded: (job: string) => void }) {
  const formats = useQuery({ queryKey: ["marketplace", "formats"], queryFn: () => api<{ type: string; description: string }[]>("/marketplace/formats") });
  const add = useMutation({
    mutationFn: (body: Record<string, string>) => api<{ job: string }>("/marketplace/sources", { method: "POST", body }),
    onSuccess: (added) => onAdded(added.job),
  });
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    add.mutate({ name: String(form.get("name")).trim(), type: String(form.get("type")), url: String(form.get("url")).trim() });
  }
  return (
    <Dialog open onOpenChange={(open) => !open && onClose()} title="Add a catalog source">
      <form onSubmit={submit} className="space-y-3">
        <Field label="Name" hint="Lower-case letters, digits, '-' and '_': app ids start with it">
          <input name="name" required pattern="[a-z0-9][a-z0-9_\-]{0,39}" className={inputClass} />
        </Field>
        <Field label="Format">
          <select name="type" className={inputClass}>
            {(formats.data ?? []).map((f) => (
              <option key={f.type} value={f.type}>
                {f.type}: {f.description}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Where" hint="https://…, file://… or a path on the SkyPort server (a folder or zip for an app store)">
          <input name="url" required className={inputClass} />
        </Field>
        <ErrorNote error={formats.error ?? add.error} what="Cannot add the source" />
        <div className="flex justify-end gap-2">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" disabled={add.isPending}>
            Add
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
