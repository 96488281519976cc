/** Add the hosts of an OpenSSH client config (`~/.ssh/config`): pasted, or read from a file. */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api } from "@/api/http";
import { Dialog } from "@/components/Dialog";
import { Button, ErrorNote, Field, inputClass } from "@/components/ui";
import { SERVERS_KEY, type ServerInfo } from "./api";

interface ImportResult {
  added: ServerInfo[];
  skipped: Record<string, string>;
}

export function ImportDialog({ onClose }: { onClose: () => void }) {
  const client = useQueryClient();
  const [text, setText] = useState("");
  const run = useMutation({
    mutationFn: (body: Record<string, unknown>) => api<ImportResult>("/vps/servers/import", { method: "POST", body }),
    onSuccess: () => void client.invalidateQueries({ queryKey: SERVERS_KEY }),
  });
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const tags = String(form.get("tags") ?? "").split(/[\s,]+/).filter(Boolean);
    run.mutate({ config: text, tags, agent_when_no_key: form.get("agent") === "on" });
  }
  const result = run.data;
  return (
    <Dialog open onOpenChange={(open) => !open && onClose()} title="Import from an SSH config" wide>
      <form onSubmit={submit} className="space-y-3">
        <Field label="SSH config" hint="The text of ~/.ssh/config: each Host without wildcards becomes a server">
          <textarea rows={8} required className={`${inputClass} font-mono text-xs`} value={text} onChange={(e) => setText(e.target.value)} placeholder={"Host web-1\n  HostName 10.0.0.5\n  User deploy\n  IdentityFile ~/.ssh/id_ed25519"} />
        </Field>
        <Field label="…or read it from a file">
          <input type="file" className="text-sm" onChange={(e) => void e.target.files?.[0]?.text().then(setText)} />
        </Field>
        <Field label="Tags" hint="For every imported server, comma separated">
          <input name="tags" className={inputClass} />
        </Field>
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" name="agent" defaultChecked /> Hosts without an IdentityFile log in with the SkyPort server's SSH agent
        </label>
        <ErrorNote error={run.error} what="Cannot import" />
        {result ? (
          <div role="status" className="text-sm">
            <p>
              Added {result.added.length}: {result.added.map((s) => s.name).join(", ") || "none"}. Trust each one's host key on its page before using it.
            </p>
            {Object.keys(result.skipped).length ? (
              <ul className="mt-1 list-disc pl-5">
                {Object.entries(result.skipped).map(([alias, why]) => (
                  <li key={alias}>
                    {alias}: {why}
                  </li>
                ))}
              </ul>
            ) : null}
          </div>
        ) : null}
        <div className="flex justify-end gap-2">
          <Button onClick={onClose}>{result ? "Close" : "Cancel"}</Button>
          <Button type="submit" variant="primary" disabled={run.isPending || !text.trim()}>
            Import
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
