/** A server's files over SFTP (scope `vps:files`): browse folders, download, upload with progress. */
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, apiBlob, upload } from "@/api/http";
import { DataTable } from "@/components/DataTable";
import { bytes, datetime } from "@/components/format";
import { saveBlob } from "@/components/save";
import { Button, EmptyState, ErrorNote, inputLook, Loading } from "@/components/ui";
import { serverPath, type FileEntry } from "./api";

/** The folder above `path`, as SFTP paths go (absolute, or relative to the login's home). */
export function parentOf(path: string): string {
  const trimmed = path.replace(/\/+$/, "") || "/";
  if (trimmed === "/") return "/";
  if (trimmed === "." || trimmed === "..") return trimmed === "." ? ".." : "../..";
  if (trimmed.endsWith("/..")) return `${trimmed}/..`;
  const cut = trimmed.lastIndexOf("/");
  if (cut < 0) return ".";
  return cut === 0 ? "/" : trimmed.slice(0, cut);
}

/** `name` inside the folder `path`. */
export function inside(path: string, name: string): string {
  return path.endsWith("/") ? `${path}${name}` : `${path}/${name}`;
}

interface Sending {
  name: string;
  share: number;
}

export function FileBrowser({ server }: { server: string }) {
  const [path, setPath] = useState(".");
  const [typed, setTyped] = useState(".");
  const [sending, setSending] = useState<Sending[]>([]);
  const listing = useQuery({
    queryKey: ["vps", "files", server, path],
    queryFn: () => api<FileEntry[]>(`${serverPath(server)}/files`, { query: { path } }),
  });
  const download = useMutation({
    mutationFn: async (entry: FileEntry) => saveBlob(entry.name, await apiBlob(`${serverPath(server)}/files/content`, { path: entry.path })),
  });
  const send = useMutation({
    mutationFn: async (files: File[]) => {
      setSending(files.map((f) => ({ name: f.name, share: 0 })));
      for (const [i, file] of files.entries()) {
        const onProgress = (share: number) => setSending((old) => old.map((s, j) => (j === i ? { ...s, share } : s)));
        await upload(`${serverPath(server)}/files/content`, file, { query: { path: inside(path, file.name) }, onProgress });
      }
    },
    onSettled: () => void listing.refetch(),
  });
  const go = (to: string) => {
    setPath(to);
    setTyped(to);
  };
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    go(typed.trim() || ".");
  }
  return (
    <div>
      <form onSubmit={submit} className="mb-2 flex flex-wrap items-center gap-2 text-sm">
        <Button small onClick={() => go(parentOf(path))} aria-label="Up one folder">
          ↑ Up
        </Button>
        <input aria-label="Path" className={`${inputLook} min-w-0 flex-1 font-mono`} value={typed} onChange={(e) => setTyped(e.target.value)} />
        <Button small type="submit">
          Open
        </Button>
        <label className="cursor-pointer rounded border border-sky-700 bg-sky-700 px-2 py-0.5 text-xs font-medium text-white hover:bg-sky-800">
            Upload files
          <input type="file" multiple className="sr-only" disabled={send.isPending} onChange={(e) => e.target.files?.length && send.mutate([...e.target.files])} />
        </label>
      </form>
      {sending.map((s) => (
        <div key={s.name} className="mb-1 text-xs">
          <div role="progressbar" aria-label={`Uploading ${s.name}`} aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(s.share * 100)} className="h-2 w-full overflow-hidden rounded bg-slate-200 dark:bg-slate-700">
            <div className="h-full bg-sky-500 transition-all" style={{ width: `${Math.round(s.share * 100)}%` }} />
          </div>
          <span>
            {s.name}: {s.share >= 1 ? "sent" : `${Math.round(s.share * 100)} %`}
          </span>
        </div>
      ))}
      <ErrorNote error={send.error ?? download.error} what="Files" />
      {listing.isPending ? (
        <Loading what="Listing the folder" />
      ) : listing.error ? (
        <ErrorNote error={listing.error} what={`Cannot list ${path}`} />
      ) : listing.data.length === 0 ? (
        <EmptyState title="This folder is empty." />
      ) : (
        <DataTable
          label={`Files in ${path}`}
          rows={listing.data}
          rowKey={(f) => f.path}
          columns={[
            {
              title: "Name",
              className: "font-mono text-xs",
              render: (f) =>
                f.kind === "dir" ? (
                  <button type="button" className="text-sky-700 hover:underline dark:text-sky-400" onClick={() => go(f.path)}>
                    {f.name}/
                  </button>
                ) : (
                  f.name
                ),
            },
            { title: "Size", render: (f) => (f.kind === "dir" ? "–" : bytes(f.size)) },
            { title: "Mode", render: (f) => f.mode, className: "font-mono text-xs" },
            { title: "Modified", render: (f) => datetime(f.modified) },
          ]}
          actions={(f) =>
            f.kind === "file" ? (
              <Button small aria-label={`Download ${f.name}`} disabled={download.isPending} onClick={() => download.mutate(f)}>
                Download
              </Button>
            ) : null
          }
        />
      )}
    </div>
  );
}
