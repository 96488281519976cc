/** Start a process: a script with pm2's options, or an ecosystem file (`POST /api/pm2/start`). */
import * as Tabs from "@radix-ui/react-tabs";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api } from "@/api/http";
import { Dialog } from "@/components/Dialog";
import { Button, ErrorNote, Field, inputClass, problemOf } from "@/components/ui";
import { TAB } from "@/components/tabs";
import type { ProcessSummary } from "./api";

const NAME = /^[^\s/\\][^/\\]{0,127}$/;
const ENV_LINE = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;

export type Checked = { body: Record<string, unknown>; problems: null } | { body: null; problems: Record<string, string> };

/** `KEY=value` lines as an object; the lines that are not, as a problem. */
export function envLines(text: string): { env: Record<string, string>; bad: string[] } {
  const env: Record<string, string> = {};
  const bad: string[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const found = ENV_LINE.exec(line);
    if (found) env[found[1]] = found[2];
    else bad.push(line);
  }
  return { env, bad };
}

/** The request body from the script form, or what is wrong with it (checked before sending). */
export function scriptRequest(form: FormData): Checked {
  const text = (key: string) => String(form.get(key) ?? "").trim();
  const problems: Record<string, string> = {};
  const body: Record<string, unknown> = { script: text("script") };
  if (!text("script")) problems.script = "Give the script's path (or an executable's).";
  if (text("name")) {
    if (NAME.test(text("name"))) body.name = text("name");
    else problems.name = "1 to 128 characters, without / or \\, not starting with a space.";
  }
  for (const key of ["cwd", "interpreter", "args", "max_memory_restart", "namespace"]) if (text(key)) body[key] = text(key);
  if (text("instances")) {
    const instances = Number(text("instances"));
    if (!Number.isInteger(instances) || instances < -64 || instances > 256) problems.instances = "A whole number from -64 to 256 (0: one per CPU).";
    else body.instances = instances;
  }
  if (text("exec_mode")) body.exec_mode = text("exec_mode");
  const { env, bad } = envLines(String(form.get("env") ?? ""));
  if (bad.length) problems.env = `Not KEY=value: ${bad.join(", ")}`;
  else if (Object.keys(env).length) body.env = env;
  body.watch = form.get("watch") === "on";
  body.autorestart = form.get("autorestart") === "on";
  return Object.keys(problems).length ? { body: null, problems } : { body, problems: null };
}

/** The request body from the ecosystem form, or what is wrong with it. */
export function ecosystemRequest(form: FormData): Checked {
  const text = (key: string) => String(form.get(key) ?? "").trim();
  const file = text("ecosystem");
  if (!file.startsWith("/")) return { body: null, problems: { ecosystem: "Give the file's absolute path (/srv/app/ecosystem.config.js)." } };
  const body: Record<string, unknown> = { ecosystem: file };
  const only = text("only").split(/[\s,]+/).filter(Boolean);
  if (only.length) body.only = only;
  if (text("environment")) body.environment = text("environment");
  return { body, problems: null };
}

export function StartDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  const client = useQueryClient();
  const [problems, setProblems] = useState<Record<string, string>>({});
  const start = useMutation({
    mutationFn: (body: Record<string, unknown>) => api<{ ids: number[]; processes: ProcessSummary[] }>("/pm2/start", { method: "POST", body }),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ["pm2"] });
      onOpenChange(false);
    },
  });
  const submit = (check: (form: FormData) => Checked) => (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const checked = check(new FormData(event.currentTarget));
    setProblems(checked.problems ?? {});
    if (checked.body) start.mutate(checked.body);
  };
  const problem = (field: string) => problemOf("start", problems, field);
  const footer = (
    <div className="flex flex-col gap-2 sm:col-span-2">
      <ErrorNote error={start.error} what="Cannot start" />
      <div className="flex justify-end gap-2">
      <Button onClick={() => onOpenChange(false)}>Cancel</Button>
      <Button type="submit" variant="primary" disabled={start.isPending}>
        {start.isPending ? "Starting…" : "Start"}
      </Button>
      </div>
    </div>
  );
  return (
    <Dialog open={open} onOpenChange={onOpenChange} title="Start a process" wide>
      <Tabs.Root defaultValue="script" onValueChange={() => setProblems({})}>
        <Tabs.List aria-label="What to start" className="mb-3 flex gap-1 border-b border-slate-200 dark:border-slate-800">
          <Tabs.Trigger value="script" className={TAB}>
            From a script
          </Tabs.Trigger>
          <Tabs.Trigger value="ecosystem" className={TAB}>
            From an ecosystem file
          </Tabs.Trigger>
        </Tabs.List>
        <Tabs.Content value="script">
          <form noValidate onSubmit={submit(scriptRequest)} className="grid grid-cols-1 gap-3 sm:grid-cols-2">
            <Field label="Script" hint="Path on the server; relative to the working directory" problem={problem("script").problem}>
              <input name="script" className={inputClass} placeholder="/srv/app/server.js" {...problem("script").input} />
            </Field>
            <Field label="Name" hint="Default: the script's name" problem={problem("name").problem}>
              <input name="name" className={inputClass} {...problem("name").input} />
            </Field>
            <Field label="Working directory">
              <input name="cwd" className={inputClass} placeholder="/srv/app" />
            </Field>
            <Field label="Interpreter" hint="Default: from the extension (.js node, .py python3, .sh bash)">
              <select name="interpreter" className={inputClass} defaultValue="">
                <option value="">automatic</option>
                <option value="node">node</option>
                <option value="python3">python3</option>
                <option value="bash">bash</option>
                <option value="none">none (an executable)</option>
              </select>
            </Field>
            <Field label="Instances" hint="Node.js: more than one runs in cluster mode; 0 = one per CPU" problem={problem("instances").problem}>
              <input name="instances" inputMode="numeric" className={inputClass} placeholder="1" {...problem("instances").input} />
            </Field>
            <Field label="Mode">
              <select name="exec_mode" className={inputClass} defaultValue="">
                <option value="">automatic</option>
                <option value="fork">fork</option>
                <option value="cluster">cluster</option>
              </select>
            </Field>
            <Field label="Arguments" hint="As in a shell: --port 3000 --verbose">
              <input name="args" className={inputClass} />
            </Field>
            <Field label="Restart above memory" hint="e.g. 300M, 1G">
              <input name="max_memory_restart" className={inputClass} />
            </Field>
            <Field label="Environment" hint="One KEY=value per line" problem={problem("env").problem}>
              <textarea name="env" rows={3} className={`${inputClass} font-mono`} {...problem("env").input} />
            </Field>
            <div className="flex flex-col justify-end gap-1 text-sm">
              <label className="flex items-center gap-2">
                <input type="checkbox" name="autorestart" defaultChecked /> Restart when it exits
              </label>
              <label className="flex items-center gap-2">
                <input type="checkbox" name="watch" /> Restart when its files change
              </label>
            </div>
            {footer}
          </form>
        </Tabs.Content>
        <Tabs.Content value="ecosystem">
          <form noValidate onSubmit={submit(ecosystemRequest)} className="grid grid-cols-1 gap-3 sm:grid-cols-2">
            <Field label="Ecosystem file" hint="Absolute path of a .js, .cjs or .json file on the server" problem={problem("ecosystem").problem}>
              <input name="ecosystem" className={inputClass} placeholder="/srv/app/ecosystem.config.js" {...problem("ecosystem").input} />
            </Field>
            <Field label="Only these apps" hint="Names, comma separated (default: all)">
              <input name="only" className={inputClass} />
            </Field>
            <Field label="Environment section" hint="env_<name> of the file, e.g. production">
              <input name="environment" className={inputClass} />
            </Field>
            {footer}
          </form>
        </Tabs.Content>
      </Tabs.Root>
    </Dialog>
  );
}
