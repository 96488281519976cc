/**
 * The install form, made from the template's settings: defaults filled in, choices as a list,
 * secrets as passwords, fixed (hidden) ones left out; checked before it is sent. The install
 * then runs as a job, followed live on `marketplace.jobs:<id>`.
 */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent } from "react";
import { Link } from "wouter";
import { api } from "@/api/http";
import { JobProgress, useJob } from "@/components/JobProgress";
import { Button, ErrorNote, Field, inputClass, problemOf } from "@/components/ui";
import { appPath, INSTALLED_KEY, JOB_DONE, jobTopic, loadJob, type AppDetail } from "./api";

const NAME_RULE = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** "Gitea: Git with a cup of tea" → "gitea-git-with-a-cup-of-tea": a name every backend takes. */
export function defaultName(title: string): string {
  const name = title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63)
    .replace(/-+$/, "");
  return name || "app";
}

export type Checked = { body: { name: string; values: Record<string, string> }; problems: null } | { body: null; problems: Record<string, string> };

/** The request from the form: the install's name and the values of the settings shown. */
export function installRequest(app: Pick<AppDetail, "env">, form: FormData): Checked {
  const problems: Record<string, string> = {};
  const name = String(form.get("name") ?? "").trim();
  if (!NAME_RULE.test(name)) problems.name = "Lower-case letters, digits, '-' and '_', starting with a letter or digit (at most 63).";
  const values: Record<string, string> = {};
  for (const field of app.env.filter((f) => !f.hidden)) {
    const value = String(form.get(field.name) ?? "");
    if (field.required && !value) problems[field.name] = "Required.";
    else if (field.choices.length && value && !field.choices.some((c) => c.value === value)) problems[field.name] = "Pick one of the choices.";
    else if (/[\r\n\0]/.test(value)) problems[field.name] = "One line only.";
    values[field.name] = value;
  }
  return Object.keys(problems).length ? { body: null, problems } : { body: { name, values }, problems: null };
}

export function InstallForm({ app }: { app: AppDetail }) {
  const client = useQueryClient();
  const [problems, setProblems] = useState<Record<string, string>>({});
  const install = useMutation({
    mutationFn: (body: { name: string; values: Record<string, string> }) => api<{ job: string }>(`${appPath(app.id)}/install`, { method: "POST", body }),
  });
  const job = install.data?.job ?? null;
  const followed = useJob(jobTopic(job), loadJob(job ?? ""), "job");
  const ended = followed.ended;
  useEffect(() => {
    if (ended) void client.invalidateQueries({ queryKey: INSTALLED_KEY });
  }, [ended, client]);
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const checked = installRequest(app, new FormData(event.currentTarget));
    setProblems(checked.problems ?? {});
    if (checked.body) install.mutate(checked.body);
  }
  const problem = (field: string) => problemOf("install", problems, field);
  const fixed = app.env.filter((f) => f.hidden);
  return (
    <form noValidate onSubmit={submit} aria-label={`Install ${app.title}`} className="space-y-3">
      <fieldset disabled={!app.you_may_install || Boolean(job)} className="grid grid-cols-1 gap-3 sm:grid-cols-2">
        <Field label="Install name" hint="Names its containers, stack or process" problem={problem("name").problem}>
          <input name="name" defaultValue={defaultName(app.title)} className={inputClass} {...problem("name").input} />
        </Field>
        {app.env
          .filter((f) => !f.hidden)
          .map((f) => (
            <Field key={f.name} label={`${f.label || f.name}${f.required ? " (required)" : ""}`} hint={f.description || (f.label ? f.name : undefined)} problem={problem(f.name).problem}>
              {f.choices.length ? (
                <select name={f.name} defaultValue={f.default} className={inputClass} {...problem(f.name).input}>
                  {!f.required || !f.default ? <option value="">–</option> : null}
                  {f.choices.map((c) => (
                    <option key={c.value} value={c.value}>
                      {c.label || c.value}
                    </option>
                  ))}
                </select>
              ) : (
                <input name={f.name} type={f.secret ? "password" : "text"} autoComplete="off" defaultValue={f.default} className={inputClass} {...problem(f.name).input} />
              )}
            </Field>
          ))}
      </fieldset>
      {fixed.length ? <p className="text-xs text-slate-600 dark:text-slate-400">Fixed by the template: {fixed.map((f) => f.name).join(", ")}.</p> : null}
      <ErrorNote error={install.error} what="Cannot install" />
      {job ? (
        <>
          <JobProgress what={`Installing ${app.title}`} followed={followed} good={JOB_DONE} />
          {ended && JOB_DONE.includes(ended.state) ? (
            <p className="text-sm">
              <Link href="/marketplace/installed" className="text-sky-700 underline dark:text-sky-400">
                See it with the installed apps
              </Link>
            </p>
          ) : null}
        </>
      ) : (
        <div className="flex justify-end">
          <Button type="submit" variant="primary" disabled={!app.you_may_install || install.isPending}>
            Install
          </Button>
        </div>
      )}
    </form>
  );
}
