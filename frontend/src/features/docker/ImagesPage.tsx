/** Images: list, pull with a live progress bar (`docker.pull:<job>`), remove, prune. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useState, type FormEvent } from "react";
import { useTopic } from "@/api/hooks";
import { api } from "@/api/http";
import { useCan } from "@/api/session";
import { DataTable } from "@/components/DataTable";
import { ConfirmDialog, Dialog } from "@/components/Dialog";
import { bytes, datetime, shortId } from "@/components/format";
import { ListBody } from "@/components/ListPage";
import { Button, ErrorNote, Field, inputClass, PageHeader } from "@/components/ui";
import { useDockerEvents, useEngine } from "./api";
import { EnginePicker } from "./EnginePicker";

interface ImageSummary {
  id: string;
  tags: string[];
  created: number;
  size: number;
  containers: number | null;
  engine: string;
}

export interface PullProgress {
  job: string;
  image: string;
  status: "pulling" | "done" | "error";
  current: number;
  total: number;
  message: string;
  error: string | null;
}

/** The share of a pull done, 0 to 100 (100 once done, whatever the counts say). */
export function pullPercent(progress: PullProgress): number {
  if (progress.status === "done") return 100;
  return progress.total > 0 ? Math.min(99, Math.floor((progress.current / progress.total) * 100)) : 0;
}

export default function ImagesPage() {
  const engine = useEngine();
  const client = useQueryClient();
  const canWrite = useCan("docker:write");
  useDockerEvents();
  const images = useQuery({
    queryKey: ["docker", "images", engine ?? ""],
    queryFn: () => api<ImageSummary[]>("/docker/images", { query: { engine } }),
  });
  const [pulling, setPulling] = useState(false);
  const [removing, setRemoving] = useState<ImageSummary | null>(null);
  const [pruning, setPruning] = useState(false);
  const refresh = () => void client.invalidateQueries({ queryKey: ["docker", "images"] });
  const remove = useMutation({
    mutationFn: (image: ImageSummary) => api(`/docker/images/${image.tags[0] ?? image.id}`, { method: "DELETE", query: { engine, force: true } }),
    onSettled: refresh,
  });
  const prune = useMutation({
    mutationFn: () => api<{ deleted: string[]; space_reclaimed: number }>("/docker/images/prune", { method: "POST", query: { engine } }),
    onSettled: refresh,
  });

  return (
    <div>
      <PageHeader title="Images">
        <EnginePicker />
        {canWrite ? (
          <>
            <Button onClick={() => setPruning(true)}>Prune</Button>
            <Button variant="primary" onClick={() => setPulling(true)}>
              Pull image
            </Button>
          </>
        ) : null}
      </PageHeader>
      <ErrorNote error={remove.error ?? prune.error} what="Failed" />
      {prune.data ? (
        <p role="status" className="mb-2 text-sm">
          Pruned {prune.data.deleted.length} images, {bytes(prune.data.space_reclaimed)} reclaimed.
        </p>
      ) : null}
      <ListBody query={images} what="images" empty={canWrite ? "Pull one with “Pull image”." : "Ask an operator to pull one."}>
        {(rows) => (
          <DataTable
            label="Images"
            rows={rows}
            rowKey={(i) => i.id}
            columns={[
              { title: "Tags", render: (i) => (i.tags.length ? i.tags.join(", ") : <span className="text-slate-600 dark:text-slate-400">untagged</span>), className: "font-medium" },
              { title: "ID", render: (i) => shortId(i.id), className: "font-mono text-xs" },
              { title: "Size", render: (i) => bytes(i.size) },
              { title: "Created", render: (i) => datetime(i.created) },
              { title: "Containers", render: (i) => (i.containers === null ? "–" : String(i.containers)) },
            ]}
            actions={
              canWrite
                ? (i) => (
                    <Button small variant="danger" aria-label={`Remove ${i.tags[0] ?? shortId(i.id)}`} onClick={() => setRemoving(i)}>
                      Remove
                    </Button>
                  )
                : undefined
            }
          />
        )}
      </ListBody>
      {pulling ? <PullDialog engine={engine} onClose={() => setPulling(false)} /> : null}
      <ConfirmDialog open={removing !== null} onOpenChange={(o) => !o && setRemoving(null)} title={`Remove ${removing?.tags[0] ?? ""}?`} confirmLabel="Remove" onConfirm={() => removing && remove.mutate(removing)}>
        <p className="text-sm">The image is removed even when stopped containers use it.</p>
      </ConfirmDialog>
      <ConfirmDialog open={pruning} onOpenChange={setPruning} title="Remove unused images?" confirmLabel="Prune" onConfirm={() => prune.mutate()}>
        <p className="text-sm">Dangling images (untagged, used by no container) are removed.</p>
      </ConfirmDialog>
    </div>
  );
}

function PullDialog({ engine, onClose }: { engine?: string; onClose: () => void }) {
  const client = useQueryClient();
  const [job] = useState(() => `ui-${Math.random().toString(16).slice(2, 10)}`);
  const [progress, setProgress] = useState<PullProgress | null>(null);
  const onProgress = useCallback(
    (data: unknown) => {
      const next = data as PullProgress;
      setProgress(next);
      if (next.status === "done") void client.invalidateQueries({ queryKey: ["docker", "images"] });
    },
    [client],
  );
  const topicError = useTopic(`docker.pull:${job}`, onProgress);
  const start = useMutation({
    mutationFn: (image: string) => api<PullProgress>("/docker/images/pull", { method: "POST", body: { image, job, wait: false }, query: { engine } }),
    onSuccess: (snapshot) => setProgress((old) => old ?? snapshot),
  });
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    start.mutate(String(new FormData(event.currentTarget).get("image")).trim());
  }
  const percent = progress ? pullPercent(progress) : 0;
  return (
    <Dialog open onOpenChange={(open) => !open && onClose()} title="Pull an image">
      <form onSubmit={submit} className="space-y-3">
        <Field label="Image" hint="NAME[:TAG] or REGISTRY/NAME[:TAG]">
          <input name="image" required className={inputClass} placeholder="redis:7" disabled={start.isPending || Boolean(progress)} />
        </Field>
        <ErrorNote error={start.error ?? topicError} what="Cannot pull" />
        {progress ? (
          <div>
            <div role="progressbar" aria-label={`Pulling ${progress.image}`} aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent} className="h-3 w-full overflow-hidden rounded bg-slate-200 dark:bg-slate-700">
              <div className={`h-full ${progress.status === "error" ? "bg-red-500" : "bg-sky-500"} transition-all`} style={{ width: `${percent}%` }} />
            </div>
            <p role="status" className="mt-1 text-sm">
              {progress.status === "error"
                ? `Failed: ${progress.error}`
                : progress.status === "done"
                  ? `Done: ${progress.message || progress.image}`
                  : `${bytes(progress.current)} of ${progress.total ? bytes(progress.total) : "?"} (${percent} %)`}
            </p>
          </div>
        ) : null}
        <div className="flex justify-end gap-2">
          <Button onClick={onClose}>{progress?.status === "done" ? "Close" : "Cancel"}</Button>
          {!progress ? (
            <Button type="submit" variant="primary" disabled={start.isPending}>
              Pull
            </Button>
          ) : null}
        </div>
      </form>
    </Dialog>
  );
}
