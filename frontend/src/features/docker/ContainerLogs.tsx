/** A container's log: the last lines, then live from `docker.logs:<id>`; search and download. */
import { useQuery } from "@tanstack/react-query";
import { useCallback, useMemo, useState } from "react";
import { useTopic } from "@/api/hooks";
import { api } from "@/api/http";
import { LogView } from "@/components/LogView";

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
  const [live, setLive] = useState<LogLine[]>([]);
  const [ended, setEnded] = useState("");
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
  const lines = useMemo(
    () => joinLog(past.data?.lines ?? [], live).map((l) => ({ text: l.line, err: l.stream === "stderr", prefix: l.time?.slice(11, 19) })),
    [past.data, live],
  );
  return <LogView lines={lines} name={name} follow={follow} onFollow={setFollow} error={past.error ?? error} ended={ended} />;
}
