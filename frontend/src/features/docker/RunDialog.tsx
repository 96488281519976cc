/** The run-container form: the options of `POST /api/docker/run`, validated by the server. */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api } from "@/api/http";
import { Dialog } from "@/components/Dialog";
import { Button, ErrorNote, Field, inputClass } from "@/components/ui";

interface RunResult {
  id: string;
  name: string;
  warnings: string[];
}

/** Non-empty lines (or comma-separated items) of a text field; undefined when there are none. */
export function items(text: string, separator: RegExp = /\n/): string[] | undefined {
  const found = text.split(separator).map((s) => s.trim()).filter(Boolean);
  return found.length ? found : undefined;
}

/** The request body from the form's fields: only what was filled in. */
export function runRequest(form: FormData): Record<string, unknown> {
  const text = (key: string) => String(form.get(key) ?? "").trim();
  const body: Record<string, unknown> = { image: text("image") };
  const optional = {
    name: text("name"),
    command: text("command"),
    entrypoint: text("entrypoint"),
    hostname: text("hostname"),
    restart: text("restart"),
    network_mode: text("network_mode"),
    memory: text("memory"),
    user: text("user"),
    working_dir: text("working_dir"),
  };
  for (const [key, value] of Object.entries(optional)) if (value) body[key] = value;
  if (text("cpus")) body.cpus = Number(text("cpus"));
  const env = items(text("env"));
  const ports = items(text("ports"), /[\s,]+/);
  const volumes = items(text("volumes"));
  if (env) body.env = env;
  if (ports) body.ports = ports;
  if (volumes) body.volumes = volumes;
  const labels = items(text("labels"));
  if (labels) body.labels = Object.fromEntries(labels.map((l) => [l.split("=", 1)[0], l.slice(l.indexOf("=") + 1)]));
  body.pull = text("pull") || "missing";
  body.auto_remove = form.get("auto_remove") === "on";
  body.tty = form.get("tty") === "on";
  body.stdin_open = body.tty;
  return body;
}

export function RunDialog({ open, onOpenChange, engine }: { open: boolean; onOpenChange: (open: boolean) => void; engine?: string }) {
  const client = useQueryClient();
  const [warnings, setWarnings] = useState<string[]>([]);
  const run = useMutation({
    mutationFn: (body: Record<string, unknown>) => api<RunResult>("/docker/run", { method: "POST", body, query: { engine } }),
    onSuccess: (result) => {
      void client.invalidateQueries({ queryKey: ["docker", "containers"] });
      setWarnings(result.warnings);
      if (!result.warnings.length) onOpenChange(false);
    },
  });
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    run.mutate(runRequest(new FormData(event.currentTarget)));
  }
  return (
    <Dialog open={open} onOpenChange={onOpenChange} title="Run a container" wide>
      <form onSubmit={submit} className="grid grid-cols-1 gap-3 sm:grid-cols-2">
        <Field label="Image" hint="Pulled when missing (see Pull)">
          <input name="image" required className={inputClass} placeholder="nginx:1.27" />
        </Field>
        <Field label="Name" hint="Letters, digits, _ . - (optional)">
          <input name="name" className={inputClass} />
        </Field>
        <Field label="Command" hint="As in a shell: sh -c 'echo hi'">
          <input name="command" className={inputClass} />
        </Field>
        <Field label="Entrypoint" hint="Replaces the image's (optional)">
          <input name="entrypoint" className={inputClass} />
        </Field>
        <Field label="Hostname">
          <input name="hostname" className={inputClass} />
        </Field>
        <Field label="Ports" hint="HOST:CONTAINER, comma or space separated: 8080:80 53:53/udp">
          <input name="ports" className={inputClass} />
        </Field>
        <Field label="Environment" hint="One KEY=value per line">
          <textarea name="env" rows={3} className={`${inputClass} font-mono`} />
        </Field>
        <Field label="Volumes" hint="One per line: NAME:/path or /host:/path[:ro]">
          <textarea name="volumes" rows={3} className={`${inputClass} font-mono`} />
        </Field>
        <Field label="Labels" hint="One key=value per line">
          <textarea name="labels" rows={2} className={`${inputClass} font-mono`} />
        </Field>
        <Field label="Restart policy">
          <select name="restart" className={inputClass} defaultValue="">
            <option value="">no</option>
            <option value="always">always</option>
            <option value="unless-stopped">unless-stopped</option>
            <option value="on-failure">on-failure</option>
          </select>
        </Field>
        <Field label="Network" hint="none, host, or a network's name (default: the engine's)">
          <input name="network_mode" className={inputClass} />
        </Field>
        <Field label="Memory limit" hint="e.g. 256m, 1g">
          <input name="memory" className={inputClass} />
        </Field>
        <Field label="CPUs" hint="e.g. 0.5">
          <input name="cpus" type="number" step="0.1" min="0" className={inputClass} />
        </Field>
        <Field label="User">
          <input name="user" className={inputClass} />
        </Field>
        <Field label="Working directory">
          <input name="working_dir" className={inputClass} />
        </Field>
        <Field label="Pull the image">
          <select name="pull" className={inputClass} defaultValue="missing">
            <option value="missing">when missing</option>
            <option value="always">always</option>
            <option value="never">never</option>
          </select>
        </Field>
        <div className="flex flex-col justify-end gap-1 text-sm">
          <label className="flex items-center gap-2">
            <input type="checkbox" name="auto_remove" /> Remove when it exits
          </label>
          <label className="flex items-center gap-2">
            <input type="checkbox" name="tty" /> Terminal (tty, stdin open)
          </label>
        </div>
        <div className="sm:col-span-2">
          <ErrorNote error={run.error} what="Cannot run the container" />
          {warnings.length ? <p className="text-sm text-amber-700">Started, with warnings: {warnings.join("; ")}</p> : null}
        </div>
        <div className="flex justify-end gap-2 sm:col-span-2">
          <Button onClick={() => onOpenChange(false)}>Cancel</Button>
          <Button type="submit" variant="primary" disabled={run.isPending}>
            {run.isPending ? "Starting…" : "Run"}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
