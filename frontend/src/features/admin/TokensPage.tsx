/** Your API tokens: create with scopes and expiry (the secret is shown once), revoke. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api } from "@/api/http";
import { useUser } from "@/api/session";
import { DataTable } from "@/components/DataTable";
import { Dialog } from "@/components/Dialog";
import { datetime } from "@/components/format";
import { ListBody } from "@/components/ListPage";
import { Button, ErrorNote, Field, inputClass, PageHeader, StateBadge } from "@/components/ui";

interface ApiToken {
  id: string;
  name: string;
  scopes: string[];
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked: boolean;
}

export default function TokensPage() {
  const user = useUser();
  const client = useQueryClient();
  const tokens = useQuery({ queryKey: ["auth", "tokens"], queryFn: () => api<ApiToken[]>("/auth/tokens") });
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<string | null>(null);
  const refresh = () => void client.invalidateQueries({ queryKey: ["auth", "tokens"] });
  const create = useMutation({
    mutationFn: (body: Record<string, unknown>) => api<{ token: string }>("/auth/tokens", { method: "POST", body }),
    onSuccess: (created) => {
      setCreating(false);
      setSecret(created.token);
    },
    onSettled: refresh,
  });
  const revoke = useMutation({ mutationFn: (id: string) => api(`/auth/tokens/${encodeURIComponent(id)}`, { method: "DELETE" }), onSettled: refresh });
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const days = String(form.get("days")).trim();
    create.mutate({
      name: String(form.get("name")).trim(),
      scopes: String(form.get("scopes")).split(/[\s,]+/).filter(Boolean),
      expires_in_days: days ? Number(days) : null,
    });
  }
  const mine = user.scopes.includes("*") ? "any scope" : user.scopes.join(" ");
  return (
    <div>
      <PageHeader title="API tokens">
        <Button variant="primary" onClick={() => setCreating(true)}>
          Create token
        </Button>
      </PageHeader>
      {secret ? (
        <div role="status" className="mb-3 rounded border border-emerald-300 bg-emerald-50 p-3 text-sm dark:border-emerald-800 dark:bg-emerald-950">
          <p className="font-medium">Copy the token now: it is never shown again.</p>
          <code className="mt-1 block break-all font-mono">{secret}</code>
          <Button small className="mt-2" onClick={() => setSecret(null)}>
            Done
          </Button>
        </div>
      ) : null}
      <ErrorNote error={revoke.error} what="Cannot revoke" />
      <ListBody query={tokens} what="API tokens" empty="Create one for scripts and CI: send it as “Authorization: Bearer …”.">
        {(rows) => (
          <DataTable
            label="API tokens"
            rows={rows}
            rowKey={(t) => t.id}
            columns={[
              { title: "Name", render: (t) => t.name, className: "font-medium" },
              { title: "Scopes", render: (t) => t.scopes.join(" "), className: "font-mono text-xs" },
              { title: "Created", render: (t) => datetime(t.created_at) },
              { title: "Expires", render: (t) => (t.expires_at ? datetime(t.expires_at) : "never") },
              { title: "Last used", render: (t) => datetime(t.last_used_at) },
              { title: "State", render: (t) => <StateBadge state={t.revoked ? "revoked" : "active"} /> },
            ]}
            actions={(t) => (t.revoked ? null : <Button small variant="danger" aria-label={`Revoke ${t.name}`} onClick={() => revoke.mutate(t.id)}>Revoke</Button>)}
          />
        )}
      </ListBody>
      <Dialog open={creating} onOpenChange={setCreating} title="Create an API token">
        <form onSubmit={submit} className="space-y-3">
          <Field label="Name">
            <input name="name" required className={inputClass} placeholder="ci" />
          </Field>
          <Field label="Scopes" hint={`Space separated; a subset of yours (${mine})`}>
            <textarea name="scopes" required rows={2} className={`${inputClass} font-mono`} placeholder="status:read metrics:read" />
          </Field>
          <Field label="Expires in (days)" hint="Empty: never">
            <input name="days" type="number" min="1" max="3650" className={inputClass} defaultValue="90" />
          </Field>
          <ErrorNote error={create.error} what="Cannot create" />
          <div className="flex justify-end gap-2">
            <Button onClick={() => setCreating(false)}>Cancel</Button>
            <Button type="submit" variant="primary">Create</Button>
          </div>
        </form>
      </Dialog>
    </div>
  );
}
