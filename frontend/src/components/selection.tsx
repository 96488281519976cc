/** Acting on many rows at once: which are selected, the bar of actions on them, running each. */
import { useState } from "react";
import { Button } from "./ui";

export interface Selection {
  selected: Set<string>;
  toggle: (key: string) => void;
  /** Select exactly these (none: clear). */
  set: (keys: Iterable<string>) => void;
}

export function useSelection(): Selection {
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const toggle = (key: string) => {
    const next = new Set(selected);
    if (next.has(key)) next.delete(key);
    else next.add(key);
    setSelected(next);
  };
  return { selected, toggle, set: (keys) => setSelected(new Set(keys)) };
}

/** Run `call` on each key, all at once; one error naming every failure. */
export async function runOnEach(keys: string[], call: (key: string) => Promise<unknown>): Promise<void> {
  const results = await Promise.allSettled(keys.map(call));
  const failed = results.flatMap((r) => (r.status === "rejected" ? [(r.reason as Error).message] : []));
  if (failed.length) throw new Error(failed.join("; "));
}

/** "2 selected: Stop selected, Remove selected…" — a toolbar named after what it acts on. */
export function BulkBar<A extends string>({
  label,
  count,
  actions,
  labels,
  danger,
  busy = false,
  onRun,
}: {
  label: string;
  count: number;
  actions: A[];
  labels: Record<A, string>;
  danger: A[];
  busy?: boolean;
  onRun: (action: A) => void;
}) {
  if (count === 0) return null;
  return (
    <div className="mb-2 flex flex-wrap items-center gap-1 text-sm" role="toolbar" aria-label={label}>
      <span className="mr-1">{count} selected:</span>
      {actions.map((action) => (
        <Button key={action} small disabled={busy} variant={danger.includes(action) ? "danger" : "default"} onClick={() => onRun(action)}>
          {labels[action]} selected
        </Button>
      ))}
    </div>
  );
}
