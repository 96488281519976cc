/** Small shared building blocks: buttons, cards, notes, empty states. */
import type { ButtonHTMLAttributes, ReactNode } from "react";

type Variant = "primary" | "default" | "danger" | "ghost";

const VARIANTS: Record<Variant, string> = {
  primary: "bg-sky-700 text-white hover:bg-sky-800 border-sky-700",
  default:
    "bg-white text-slate-800 hover:bg-slate-100 border-slate-300 dark:bg-slate-800 dark:text-slate-100 dark:border-slate-600 dark:hover:bg-slate-700",
  danger: "bg-white text-red-700 hover:bg-red-50 border-red-300 dark:bg-slate-800 dark:text-red-400 dark:border-red-800 dark:hover:bg-red-950",
  ghost: "border-transparent hover:bg-slate-200 dark:hover:bg-slate-800",
};

export function Button({
  variant = "default",
  small = false,
  className = "",
  ...props
}: ButtonHTMLAttributes<HTMLButtonElement> & { variant?: Variant; small?: boolean }) {
  const size = small ? "px-2 py-0.5 text-xs" : "px-3 py-1.5 text-sm";
  return (
    <button
      type="button"
      className={`inline-flex items-center gap-1 rounded border font-medium disabled:cursor-not-allowed disabled:opacity-50 ${size} ${VARIANTS[variant]} ${className}`}
      {...props}
    />
  );
}

export function Card({ title, actions, children, className = "" }: { title?: ReactNode; actions?: ReactNode; children: ReactNode; className?: string }) {
  return (
    <section className={`rounded-lg border border-slate-200 bg-white p-3 dark:border-slate-800 dark:bg-slate-900 ${className}`}>
      {(title || actions) && (
        <header className="mb-2 flex items-center justify-between gap-2">
          <h2 className="text-sm font-semibold text-slate-600 dark:text-slate-300">{title}</h2>
          {actions}
        </header>
      )}
      {children}
    </section>
  );
}

export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="mb-3 flex flex-wrap items-center justify-between gap-2">
      <h1 className="text-lg font-semibold">{title}</h1>
      <div className="flex flex-wrap items-center gap-2">{children}</div>
    </div>
  );
}

/** What failed and what to try: `role="alert"` so screen readers say it. */
export function ErrorNote({ error, what }: { error: unknown; what?: string }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  return (
    <div role="alert" className="rounded border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800 dark:border-red-900 dark:bg-red-950 dark:text-red-200">
      {what ? <strong>{what}: </strong> : null}
      {message}
    </div>
  );
}

export function Banner({ children, tone = "warning" }: { children: ReactNode; tone?: "warning" | "info" }) {
  const colours =
    tone === "warning"
      ? "border-amber-300 bg-amber-50 text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100"
      : "border-sky-300 bg-sky-50 text-sky-900 dark:border-sky-800 dark:bg-sky-950 dark:text-sky-100";
  return (
    <div role="status" className={`mb-3 rounded border px-3 py-2 text-sm ${colours}`}>
      {children}
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="rounded border border-dashed border-slate-300 p-6 text-center text-sm text-slate-500 dark:border-slate-700 dark:text-slate-400">
      <p className="font-medium text-slate-700 dark:text-slate-200">{title}</p>
      {children ? <div className="mt-1">{children}</div> : null}
    </div>
  );
}

export function Loading({ what = "Loading" }: { what?: string }) {
  return (
    <p className="p-4 text-sm text-slate-600 dark:text-slate-400" aria-busy="true">
      {what}…
    </p>
  );
}

const GOOD = "bg-emerald-100 text-emerald-800 dark:bg-emerald-900 dark:text-emerald-200";
const BUSY = "bg-amber-100 text-amber-800 dark:bg-amber-900 dark:text-amber-200";
const BAD = "bg-red-100 text-red-800 dark:bg-red-900 dark:text-red-200";

/** The colour of a state word, whichever backend says it. */
const STATE_COLOURS: Record<string, string> = {
  running: GOOD,
  loaded: GOOD,
  online: GOOD,
  ok: GOOD,
  up: GOOD,
  live: GOOD,
  installed: GOOD,
  trusted: GOOD,
  verified: GOOD,
  paused: BUSY,
  restarting: BUSY,
  launching: BUSY,
  installing: BUSY,
  updating: BUSY,
  removing: BUSY,
  deploying: BUSY,
  partial: BUSY,
  untrusted: BUSY,
  failed: BAD,
  dead: BAD,
  errored: BAD,
  down: BAD,
  missing: BAD,
};

export function StateBadge({ state }: { state: string }) {
  const colour = STATE_COLOURS[state] ?? "bg-slate-200 text-slate-700 dark:bg-slate-800 dark:text-slate-300";
  return <span className={`rounded px-1.5 py-0.5 text-xs font-medium ${colour}`}>{state}</span>;
}

/** An input's look without a width (give one: `${inputLook} w-48`); `inputClass` is full width. */
export const inputLook = "rounded border border-slate-300 bg-white px-2 py-1 text-sm dark:border-slate-600 dark:bg-slate-800";
export const inputClass = `${inputLook} w-full`;

export function Field({ label, hint, problem, children }: { label: string; hint?: string; problem?: { id: string; text?: string }; children: ReactNode }) {
  return (
    <div className="text-sm">
      <label className="block">
        <span className="mb-0.5 block font-medium">{label}</span>
        {children}
      </label>
      {hint ? <span className="mt-0.5 block text-xs text-slate-600 dark:text-slate-400">{hint}</span> : null}
      {problem?.text ? (
        <span id={problem.id} className="mt-0.5 block text-xs font-medium text-red-700 dark:text-red-400">
          {problem.text}
        </span>
      ) : null}
    </div>
  );
}

/** The `problem` of a form's Field and the matching attributes of its input. */
export function problemOf(form: string, problems: Record<string, string>, field: string) {
  const id = `${form}-${field}-problem`;
  const text = problems[field];
  return { problem: { id, text }, input: { "aria-invalid": text ? true : undefined, "aria-describedby": text ? id : undefined } };
}
