/** A container's log: the last lines, then live from `docker.logs:<id>`; search and download. */
import { useQuery } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useTopic } from "@/api/hooks";
import { api } from "@/api/http";
import { Button, ErrorNote, inputClass } from "@/components/ui";

export interface LogLine {
  stream: string;
  line: string;
  time?: string;
}

const KEEP = 5000;

/** The past lines, then the followed ones; past lines as new as the first followed one are
 * the same lines (both carry the engine's nanosecond timestamps), so they are left out. */
export function joinLog(past: LogLine[], live: LogLine[]): LogLine[] {
  const since = live[0]?.time;
  return since ? [...past.filter((l) => !l.time || l.time < since), ...live] : [...past, ...live];
}

export function ContainerLogs({ id, name, engine }: { id: string; name: string; engine?: string }) {
  const [follow, setFollow] = useState(true);
  const [search, setSearch] = useState("");
  const [live, setLive] = useState<LogLine[]>([]);
  const [ended, setEnded] = useState("");
  const bottom = useRef<HTMLDivElement>(null);
  const past = useQuery({
    queryKey: ["docker", "logs", engine ?? "", id],
    queryFn: () => api<{ lines: LogLine[] }>(`/docker/containers/${encodeURIComponent(id)}/logs`, { query: { tail: 500, timestamps: true, engine } }),
    staleTime: Infinity,
  });
  const onLines = useCallback((data: unknown) => {
    const message = data as { lines?: LogLine[]; end?: boolean; reason?: string };
    if (message.lines) setLive((old) => [...old, ...message.lines!].slice(-KEEP));
    if (message.end) setEnded(message.reason ?? "the log stream ended");
  }, []);
  // Following starts with the page (not after the past lines): nothing printed in between is lost.
  const error = useTopic(follow ? `docker.logs:${engine ? `${engine}/` : ""}${id}` : null, onLines);
  const lines = useMemo(() => {
    const all = joinLog(past.data?.lines ?? [], live);
    const needle = search.toLowerCase();
    return needle ? all.filter((l) => l.line.toLowerCase().includes(needle)) : all;
  }, [past.data, live, search]);
  useEffect(() => {
    if (follow) bottom.current?.scrollIntoView({ block: "end" });
  }, [lines, follow]);

  function download() {
    const text = joinLog(past.data?.lines ?? [], live).map((l) => `${l.time ?? ""} ${l.line}`).join("\n");
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
    link.download = `${name}.log`;
    link.click();
    URL.revokeObjectURL(link.href);
  }

  return (
    <div>
      <div className="mb-2 flex flex-wrap items-center gap-2 text-sm">
        <label className="flex items-center gap-1">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> Follow
        </label>
        <input aria-label="Search the log" placeholder="Search…" className={`${inputClass} w-56`} value={search} onChange={(e) => setSearch(e.target.value)} />
        <Button small onClick={download}>
          Download
        </Button>
        {ended ? <span className="text-slate-500">({ended})</span> : null}
      </div>
      <ErrorNote error={past.error ?? error} what="Log" />
      <div role="log" aria-label={`Log of ${name}`} className="h-[60vh] overflow-auto rounded bg-slate-950 p-2 font-mono text-xs text-slate-100">
        {lines.length === 0 ? <p className="text-slate-400">{search ? "No line matches the search." : "The log is empty so far."}</p> : null}
        {lines.map((l, i) => (
          <div key={i} className={l.stream === "stderr" ? "text-red-300" : ""}>
            <span className="mr-2 text-slate-500">{l.time?.slice(11, 19)}</span>
            {l.line}
          </div>
        ))}
        <div ref={bottom} />
      </div>
    </div>
  );
}
