/**
 * Run a command on servers (some chosen, a tag, or all) and watch each one's output live from
 * `vps.run:<job>`: we pick the job id, follow its topic, wait for the server's acknowledgement,
 * then start the run; its answer (every server's full result) settles what was shown live.
 */
import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api } from "@/api/http";
import { liveSocket } from "@/api/live";
import { Button, ErrorNote, Field, inputClass, inputLook, StateBadge } from "@/components/ui";
import { newJobId, type HostResult, type RunJob, type RunMessage } from "./api";

export interface HostOutput {
  chunks: { stream: "stdout" | "stderr"; text: string }[];
  result: HostResult | null;
}

/** Fold one message of `vps.run:<job>` into the output shown per server. */
export function foldRun(shown: Record<string, HostOutput>, message: RunMessage): Record<string, HostOutput> {
  if ("done" in message) return shown;
  const host = shown[message.server] ?? { chunks: [], result: null };
  if ("result" in message) return { ...shown, [message.server]: { ...host, result: message.result } };
  return { ...shown, [message.server]: { ...host, chunks: [...host.chunks, { stream: message.stream, text: message.data }] } };
}

/** What the run's answer says of each server: the whole output, in order out then err. */
export function settled(job: RunJob): Record<string, HostOutput> {
  return Object.fromEntries(
    job.servers.map((name) => {
      const r = job.results[name];
      const chunks = r ? [{ stream: "stdout" as const, text: r.stdout }, { stream: "stderr" as const, text: r.stderr }].filter((c) => c.text) : [];
      return [name, { chunks, result: r ?? null }];
    }),
  );
}

/** "exit 0", "exit 2", "timeout: …" */
export function outcome(result: HostResult): string {
  if (result.exit_code !== null && result.reason === null) return `exit ${result.exit_code}`;
  return `${result.reason ?? "failed"}${result.error ? `: ${result.error}` : ""}`;
}

type Target = "selected" | "tag" | "all";

export function RunCommand({ selected, tags, fixed }: { selected: string[]; tags: string[]; fixed?: string }) {
  const [target, setTarget] = useState<Target>(fixed || selected.length ? "selected" : tags.length ? "tag" : "all");
  const [shown, setShown] = useState<Record<string, HostOutput>>({});
  const run = useMutation({
    mutationFn: async (body: Record<string, unknown>) => {
      const job = newJobId();
      const topic = `vps.run:${job}`;
      setShown({});
      const stop = liveSocket().subscribe(topic, (data) => setShown((old) => foldRun(old, data as RunMessage)));
      try {
        await liveSocket().subscribed(topic);
        return await api<RunJob>("/vps/run", { method: "POST", body: { ...body, job } });
      } finally {
        stop();
      }
    },
    onSuccess: (job) => setShown(settled(job)),
  });
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const body: Record<string, unknown> = { command: String(form.get("command") ?? "") };
    const timeout = Number(form.get("timeout") || 0);
    if (timeout > 0) body.timeout = timeout;
    if (fixed) body.servers = [fixed];
    else if (target === "selected") body.servers = selected;
    else if (target === "tag") body.tags = [String(form.get("tag"))];
    else body.all = true;
    run.mutate(body);
  }
  const names = Object.keys(shown);
  return (
    <div>
      <form onSubmit={submit} className="grid grid-cols-1 gap-3 sm:grid-cols-[1fr_8rem]">
        {!fixed ? (
          <fieldset className="flex flex-wrap items-center gap-3 text-sm sm:col-span-2">
            <legend className="mb-1 font-medium">On</legend>
            <label className="flex items-center gap-1">
              <input type="radio" name="target" checked={target === "selected"} disabled={!selected.length} onChange={() => setTarget("selected")} /> the {selected.length} selected
            </label>
            <label className="flex items-center gap-1">
              <input type="radio" name="target" checked={target === "tag"} disabled={!tags.length} onChange={() => setTarget("tag")} /> servers tagged
            </label>
            <select name="tag" aria-label="Tag" className={`${inputLook} w-auto`} disabled={target !== "tag"}>
              {tags.map((t) => (
                <option key={t}>{t}</option>
              ))}
            </select>
            <label className="flex items-center gap-1">
              <input type="radio" name="target" checked={target === "all"} onChange={() => setTarget("all")} /> every server
            </label>
          </fieldset>
        ) : null}
        <Field label="Command" hint="Run by each server's shell: uptime; df -h /">
          <input name="command" required className={`${inputClass} font-mono`} placeholder="uptime" />
        </Field>
        <Field label="Time-out (s)">
          <input name="timeout" inputMode="numeric" className={inputClass} placeholder="default" />
        </Field>
        <div className="flex justify-end sm:col-span-2">
          <Button type="submit" variant="primary" disabled={run.isPending || (!fixed && target === "selected" && !selected.length)}>
            {run.isPending ? "Running…" : "Run"}
          </Button>
        </div>
      </form>
      <ErrorNote error={run.error} what="Cannot run" />
      {names.length ? (
        <div className="mt-3 grid gap-2 lg:grid-cols-2">
          {names.map((name) => (
            <HostPane key={name} name={name} output={shown[name]} />
          ))}
        </div>
      ) : null}
    </div>
  );
}

function HostPane({ name, output }: { name: string; output: HostOutput }) {
  const result = output.result;
  return (
    <section aria-label={`Output of ${name}`} className="rounded border border-slate-200 dark:border-slate-700">
      <header className="flex flex-wrap items-center gap-2 border-b border-slate-200 px-2 py-1 text-sm dark:border-slate-700">
        <strong>{name}</strong>
        {result ? <StateBadge state={result.ok ? "ok" : "failed"} /> : <StateBadge state="running" />}
        {result ? (
          <span className="text-xs text-slate-600 dark:text-slate-400" data-outcome>
            {outcome(result)} in {result.duration.toFixed(2)} s{result.truncated ? " (output cut)" : ""}
          </span>
        ) : null}
      </header>
      <pre className="max-h-64 overflow-auto whitespace-pre-wrap break-all bg-slate-950 p-2 font-mono text-xs text-slate-100">
        {output.chunks.map((c, i) => (
          <span key={i} className={c.stream === "stderr" ? "text-red-300" : ""}>
            {c.text}
          </span>
        ))}
      </pre>
    </section>
  );
}
