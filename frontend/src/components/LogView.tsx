/** A live log as people read one: follow the end, search, download what is held. */
import { useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { saveBlob } from "./save";
import { Button, ErrorNote, inputLook } from "./ui";

export interface ShownLine {
  text: string;
  /** Standard error: drawn in red. */
  err?: boolean;
  /** Shown before the text (a time, an instance). */
  prefix?: string;
}

export function LogView({
  lines,
  name,
  follow,
  onFollow,
  error,
  ended,
  tools,
}: {
  lines: ShownLine[];
  /** What the log is of: its accessible name is "Log of <name>", its file "<name>.log". */
  name: string;
  follow: boolean;
  onFollow: (follow: boolean) => void;
  error?: unknown;
  ended?: string;
  /** More controls beside follow, search and download. */
  tools?: ReactNode;
}) {
  const [search, setSearch] = useState("");
  const bottom = useRef<HTMLDivElement>(null);
  const shown = useMemo(() => {
    const needle = search.toLowerCase();
    return needle ? lines.filter((l) => l.text.toLowerCase().includes(needle)) : lines;
  }, [lines, search]);
  useEffect(() => {
    if (follow) bottom.current?.scrollIntoView({ block: "end" });
  }, [shown, follow]);
  return (
    <div>
      <div className="mb-2 flex flex-wrap items-center gap-2 text-sm">
        <label className="flex items-center gap-1">
          <input type="checkbox" checked={follow} onChange={(e) => onFollow(e.target.checked)} /> Follow
        </label>
        <input aria-label="Search the log" placeholder="Search…" className={`${inputLook} w-48`} value={search} onChange={(e) => setSearch(e.target.value)} />
        <Button small onClick={() => saveBlob(`${name}.log`, new Blob([lines.map((l) => `${l.prefix ? `${l.prefix} ` : ""}${l.text}`).join("\n")], { type: "text/plain" }))}>
          Download
        </Button>
        {tools}
        {ended ? <span className="text-slate-600 dark:text-slate-400">({ended})</span> : null}
      </div>
      <ErrorNote error={error} what="Log" />
      <div role="log" tabIndex={0} aria-label={`Log of ${name}`} className="h-[60vh] overflow-auto rounded bg-slate-950 p-2 font-mono text-xs text-slate-100">
        {shown.length === 0 ? <p className="text-slate-400">{search ? "No line matches the search." : "The log is empty so far."}</p> : null}
        {shown.map((l, i) => (
          <div key={i} className={`whitespace-pre-wrap break-all ${l.err ? "text-red-300" : ""}`}>
            {l.prefix ? <span className="mr-2 text-slate-400">{l.prefix}</span> : null}
            {l.text}
          </div>
        ))}
        <div ref={bottom} />
      </div>
    </div>
  );
}
