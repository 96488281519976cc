/** Volumes: list, create, remove, prune. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api } from "@/api/http";
import { useCan } from "@/api/session";
import { DataTable } from "@/components/DataTable";
import { ConfirmDialog, Dialog } from "@/components/Dialog";
import { bytes } from "@/components/format";
import { ListBody } from "@/components/ListPage";
import { Button, ErrorNote, Field, inputClass, PageHeader } from "@/components/ui";
import { useDockerEvents, useEngine } from "./api";
import { EnginePicker } from "./EnginePicker";

interface Volume {
  name: string;
  driver: string;
  mountpoint: string;
  created_at: string;
  labels: Record<string, string>;
}

export default function VolumesPage() {
  const engine = useEngine();
  const client = useQueryClient();
  const canWrite = useCan("docker:write");
  useDockerEvents();
  const volumes = useQuery({ queryKey: ["docker", "volumes", engine ?? ""], queryFn: () => api<Volume[]>("/docker/volumes", { query: { engine } }) });
  const [creating, setCreating] = useState(false);
  const [removing, setRemoving] = useState<string | null>(null);
  const [pruning, setPruning] = useState(false);
  const refresh = () => void client.invalidateQueries({ queryKey: ["docker", "volumes"] });
  const create = useMutation({
    mutationFn: (name: string) => api("/docker/volumes", { method: "POST", body: { name: name || null }, query: { engine } }),
    onSuccess: () => setCreating(false),
    onSettled: refresh,
  });
  const remove = useMutation({ mutationFn: (name: string) => api(`/docker/volumes/${encodeURIComponent(name)}`, { method: "DELETE", query: { engine } }), onSettled: refresh });
  const prune = useMutation({
    mutationFn: () => api<{ deleted: string[]; space_reclaimed: number }>("/docker/volumes/prune", { method: "POST", query: { engine } }),
    onSettled: refresh,
  });
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    create.mutate(String(new FormData(event.currentTarget).get("name")).trim());
  }
  return (
    <div>
      <PageHeader title="Volumes">
        <EnginePicker />
        {canWrite ? (
          <>
            <Button onClick={() => setPruning(true)}>Prune</Button>
            <Button variant="primary" onClick={() => setCreating(true)}>
              Create volume
            </Button>
          </>
        ) : null}
      </PageHeader>
      <ErrorNote error={remove.error ?? prune.error} what="Failed" />
      {prune.data ? <p role="status" className="mb-2 text-sm">Pruned {prune.data.deleted.length} volumes, {bytes(prune.data.space_reclaimed)} reclaimed.</p> : null}
      <ListBody query={volumes} what="volumes" empty={canWrite ? "Create one, or run a container with a named volume." : "Volumes appear when containers need them."}>
        {(rows) => (
          <DataTable
            label="Volumes"
            rows={rows}
            rowKey={(v) => v.name}
            columns={[
              { title: "Name", render: (v) => v.name, className: "font-medium break-all" },
              { title: "Driver", render: (v) => v.driver },
              { title: "Mount point", render: (v) => v.mountpoint, className: "font-mono text-xs break-all" },
              { title: "Created", render: (v) => (v.created_at ? new Date(v.created_at).toLocaleString() : "–") },
            ]}
            actions={canWrite ? (v) => <Button small variant="danger" aria-label={`Remove ${v.name}`} onClick={() => setRemoving(v.name)}>Remove</Button> : undefined}
          />
        )}
      </ListBody>
      <Dialog open={creating} onOpenChange={setCreating} title="Create a volume">
        <form onSubmit={submit} className="space-y-3">
          <Field label="Name" hint="Empty: the engine picks one">
            <input name="name" className={inputClass} />
          </Field>
          <ErrorNote error={create.error} what="Cannot create" />
          <div className="flex justify-end gap-2">
            <Button onClick={() => setCreating(false)}>Cancel</Button>
            <Button type="submit" variant="primary">Create</Button>
          </div>
        </form>
      </Dialog>
      <ConfirmDialog open={removing !== null} onOpenChange={(o) => !o && setRemoving(null)} title={`Remove volume ${removing ?? ""}?`} confirmLabel="Remove" onConfirm={() => removing && remove.mutate(removing)}>
        <p className="text-sm">Its data is deleted. A volume a container uses cannot be removed.</p>
      </ConfirmDialog>
      <ConfirmDialog open={pruning} onOpenChange={setPruning} title="Remove unused volumes?" confirmLabel="Prune" onConfirm={() => prune.mutate()}>
        <p className="text-sm">Volumes no container uses are deleted with their data.</p>
      </ConfirmDialog>
    </div>
  );
}
