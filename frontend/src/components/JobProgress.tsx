/**
 * A job followed live (an install, an update, a deploy): its steps as they come on its topic
 * (`marketplace.jobs:<id>`, `deploy.jobs:<id>`), the steps it had taken before we listened
 * (read once the topic is acknowledged, so none falls in between), and how it ended.
 */
import { useEffect, useState } from "react";
import { liveSocket } from "@/api/live";
import { ErrorNote, StateBadge } from "./ui";

export interface JobStep {
  at: number;
  step: string;
  fraction: number | null;
}

/** What every job record has (a marketplace job, a deploy's release). */
export interface JobRecord {
  id: string;
  state: string;
  steps: JobStep[];
  error: string | null;
}

/** Add a step as the server does: the same step again (further along) replaces the last one. */
export function addStep(steps: JobStep[], step: JobStep): JobStep[] {
  const last = steps.at(-1);
  return last && last.step === step.step ? [...steps.slice(0, -1), step] : [...steps, step];
}

/** The steps read from the record, then the live ones that came after the last of them. */
export function mergeSteps(read: JobStep[], live: JobStep[]): JobStep[] {
  const since = read.at(-1)?.at ?? -Infinity;
  return live.filter((s) => s.at > since).reduce(addStep, read);
}

export interface Followed<R extends JobRecord> {
  steps: JobStep[];
  /** The record once the job has ended (null while it runs). */
  ended: R | null;
  error: string | null;
}

/** Follow the job on `topic`, whose record `load` reads; `key` names the record in the last
 * message (`{"done": true, "job": …}`). */
export function useJob<R extends JobRecord>(topic: string | null, load: () => Promise<R>, key: string): Followed<R> {
  const [followed, setFollowed] = useState<Followed<R>>({ steps: [], ended: null, error: null });
  useEffect(() => {
    setFollowed({ steps: [], ended: null, error: null });
    if (!topic) return;
    let current = true;
    const socket = liveSocket();
    const stop = socket.subscribe(
      topic,
      (data) => {
        const message = data as Record<string, unknown>;
        if (message.done) setFollowed((old) => ({ ...old, ended: message[key] as R, steps: (message[key] as R).steps }));
        else setFollowed((old) => ({ ...old, steps: addStep(old.steps, message as unknown as JobStep) }));
      },
      (error) => setFollowed((old) => ({ ...old, error })),
    );
    void socket
      .subscribed(topic)
      .then(load)
      .then(
        (record) => current && setFollowed((old) => (old.ended ? old : { ...old, steps: mergeSteps(record.steps, old.steps), ended: record.state === "running" ? null : record })),
        (error: Error) => current && setFollowed((old) => ({ ...old, error: error.message })),
      );
    return () => {
      current = false;
      stop();
    };
  }, [topic, key]);
  return followed;
}

/** The share done, 0 to 100: the last step's fraction (100 once ended well). */
export function jobPercent(followed: Followed<JobRecord>, good: string[]): number {
  if (followed.ended) return good.includes(followed.ended.state) ? 100 : 0;
  const fraction = [...followed.steps].reverse().find((s) => s.fraction !== null)?.fraction;
  return fraction === undefined || fraction === null ? 0 : Math.min(99, Math.round(fraction * 100));
}

export function JobProgress({ what, followed, good }: { what: string; followed: Followed<JobRecord>; good: string[] }) {
  const percent = jobPercent(followed, good);
  const ended = followed.ended;
  const failed = ended !== null && !good.includes(ended.state);
  return (
    <div className="space-y-2">
      <div role="progressbar" aria-label={what} aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent} className="h-3 w-full overflow-hidden rounded bg-slate-200 dark:bg-slate-700">
        <div className={`h-full ${failed ? "bg-red-500" : "bg-sky-500"} transition-all`} style={{ width: `${failed ? 100 : percent}%` }} />
      </div>
      <p role="status" className="flex items-center gap-2 text-sm">
        <StateBadge state={ended ? ended.state : "running"} />
        <span>{failed ? `Failed: ${ended.error ?? "see the steps"}` : ended ? "Done." : (followed.steps.at(-1)?.step ?? "Starting…")}</span>
      </p>
      <ErrorNote error={followed.error} what="Following the job" />
      {followed.steps.length ? (
        <ol aria-label={`Steps of ${what}`} className="max-h-48 overflow-auto rounded bg-slate-950 p-2 font-mono text-xs text-slate-100" tabIndex={0}>
          {followed.steps.map((s, i) => (
            <li key={i}>
              <span className="mr-2 text-slate-400">{new Date(s.at * 1000).toLocaleTimeString()}</span>
              {s.step}
              {s.fraction !== null ? ` (${Math.round(s.fraction * 100)} %)` : ""}
            </li>
          ))}
        </ol>
      ) : null}
    </div>
  );
}
