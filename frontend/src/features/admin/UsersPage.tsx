/** Users: add, change role, disable, reset password, remove; and per-resource grants. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api } from "@/api/http";
import { DataTable } from "@/components/DataTable";
import { ConfirmDialog, Dialog } from "@/components/Dialog";
import { datetime } from "@/components/format";
import { ListBody } from "@/components/ListPage";
import { Button, Card, ErrorNote, Field, inputClass, inputLook, PageHeader, StateBadge } from "@/components/ui";
import { useRoles } from "./RolesPage";

interface User {
  id: number;
  username: string;
  role: string;
  disabled: boolean;
  created_at: number;
}

interface Grant {
  id: number;
  username: string;
  kind: string;
  resource: string;
}

const USERS = ["admin", "users"];

export default function UsersPage() {
  const client = useQueryClient();
  const users = useQuery({ queryKey: USERS, queryFn: () => api<User[]>("/users") });
  const roles = useRoles();
  const [adding, setAdding] = useState(false);
  const [resetting, setResetting] = useState<User | null>(null);
  const [removing, setRemoving] = useState<User | null>(null);
  const refresh = () => void client.invalidateQueries({ queryKey: ["admin"] });
  const change = useMutation({
    mutationFn: ({ user, body }: { user: string; body: Record<string, unknown> }) => api(`/users/${encodeURIComponent(user)}`, { method: "PATCH", body }),
    onSuccess: () => setResetting(null),
    onSettled: refresh,
  });
  const add = useMutation({ mutationFn: (body: Record<string, unknown>) => api("/users", { method: "POST", body }), onSuccess: () => setAdding(false), onSettled: refresh });
  const remove = useMutation({ mutationFn: (user: string) => api(`/users/${encodeURIComponent(user)}`, { method: "DELETE" }), onSettled: refresh });
  const roleNames = (roles.data ?? []).map((r) => r.name);

  function submitNew(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    add.mutate({ username: form.get("username"), password: form.get("password"), role: form.get("role") });
  }
  function submitPassword(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (resetting) change.mutate({ user: resetting.username, body: { password: new FormData(event.currentTarget).get("password") } });
  }

  return (
    <div>
      <PageHeader title="Users">
        <Button variant="primary" onClick={() => setAdding(true)}>
          Add user
        </Button>
      </PageHeader>
      <ErrorNote error={change.error ?? remove.error} what="Failed" />
      <ListBody query={users} what="users" empty="Add one with “Add user”.">
        {(rows) => (
          <DataTable
            label="Users"
            rows={rows}
            rowKey={(u) => u.username}
            columns={[
              { title: "User", render: (u) => u.username, className: "font-medium" },
              {
                title: "Role",
                render: (u) => (
                  <select aria-label={`Role of ${u.username}`} className={`${inputLook} w-auto`} value={u.role} onChange={(e) => change.mutate({ user: u.username, body: { role: e.target.value } })}>
                    {(roleNames.includes(u.role) ? roleNames : [u.role, ...roleNames]).map((r) => (
                      <option key={r}>{r}</option>
                    ))}
                  </select>
                ),
              },
              { title: "State", render: (u) => <StateBadge state={u.disabled ? "disabled" : "active"} /> },
              { title: "Created", render: (u) => datetime(u.created_at) },
            ]}
            actions={(u) => (
              <>
                <Button small className="ml-1" aria-label={`${u.disabled ? "Enable" : "Disable"} ${u.username}`} onClick={() => change.mutate({ user: u.username, body: { disabled: !u.disabled } })}>
                  {u.disabled ? "Enable" : "Disable"}
                </Button>
                <Button small className="ml-1" aria-label={`Reset password of ${u.username}`} onClick={() => setResetting(u)}>
                  Reset password
                </Button>
                <Button small className="ml-1" variant="danger" aria-label={`Remove ${u.username}`} onClick={() => setRemoving(u)}>
                  Remove
                </Button>
              </>
            )}
          />
        )}
      </ListBody>
      <Grants users={(users.data ?? []).map((u) => u.username)} />
      <Dialog open={adding} onOpenChange={setAdding} title="Add a user">
        <form onSubmit={submitNew} className="space-y-3">
          <Field label="User name">
            <input name="username" required className={inputClass} />
          </Field>
          <Field label="Password" hint="They can change it with skyport login / the API">
            <input name="password" type="password" autoComplete="new-password" required className={inputClass} />
          </Field>
          <Field label="Role">
            <select name="role" className={inputClass} defaultValue="viewer">
              {roleNames.map((r) => (
                <option key={r}>{r}</option>
              ))}
            </select>
          </Field>
          <ErrorNote error={add.error} what="Cannot add" />
          <div className="flex justify-end gap-2">
            <Button onClick={() => setAdding(false)}>Cancel</Button>
            <Button type="submit" variant="primary">Add</Button>
          </div>
        </form>
      </Dialog>
      <Dialog open={resetting !== null} onOpenChange={(o) => !o && setResetting(null)} title={`New password for ${resetting?.username ?? ""}`}>
        <form onSubmit={submitPassword} className="space-y-3">
          <Field label="New password" hint="Their sessions end at once">
            <input name="password" type="password" autoComplete="new-password" required className={inputClass} />
          </Field>
          <ErrorNote error={change.error} what="Cannot change" />
          <div className="flex justify-end gap-2">
            <Button onClick={() => setResetting(null)}>Cancel</Button>
            <Button type="submit" variant="primary">Set password</Button>
          </div>
        </form>
      </Dialog>
      <ConfirmDialog open={removing !== null} onOpenChange={(o) => !o && setRemoving(null)} title={`Remove ${removing?.username ?? ""}?`} confirmLabel="Remove" onConfirm={() => removing && remove.mutate(removing.username)}>
        <p className="text-sm">Their sessions and API tokens stop working.</p>
      </ConfirmDialog>
    </div>
  );
}

function Grants({ users }: { users: string[] }) {
  const client = useQueryClient();
  const grants = useQuery({ queryKey: ["admin", "grants"], queryFn: () => api<Grant[]>("/grants") });
  const refresh = () => void client.invalidateQueries({ queryKey: ["admin", "grants"] });
  const add = useMutation({ mutationFn: (body: Record<string, unknown>) => api("/grants", { method: "POST", body }), onSettled: refresh });
  const remove = useMutation({ mutationFn: (id: number) => api(`/grants/${id}`, { method: "DELETE" }), onSettled: refresh });
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    add.mutate({ username: form.get("username"), kind: form.get("kind"), resource: form.get("resource") });
  }
  return (
    <Card title="Resource grants: limit a user to named resources of a kind" className="mt-4">
      <form onSubmit={submit} className="mb-2 flex flex-wrap items-end gap-2">
        <Field label="User">
          <select name="username" className={inputClass}>
            {users.map((u) => (
              <option key={u}>{u}</option>
            ))}
          </select>
        </Field>
        <Field label="Kind">
          <input name="kind" required placeholder="vps" className={inputClass} />
        </Field>
        <Field label="Resource">
          <input name="resource" required placeholder="web-1" className={inputClass} />
        </Field>
        <Button type="submit">Grant</Button>
      </form>
      <ErrorNote error={add.error ?? remove.error} what="Grants" />
      <ListBody query={grants} what="grants" empty="Without grants, a user reaches every resource their role allows.">
        {(rows) => (
          <DataTable
            label="Grants"
            rows={rows}
            rowKey={(g) => String(g.id)}
            columns={[
              { title: "User", render: (g) => g.username },
              { title: "Kind", render: (g) => g.kind },
              { title: "Resource", render: (g) => g.resource },
            ]}
            actions={(g) => (
              <Button small variant="danger" aria-label={`Revoke ${g.kind} ${g.resource} from ${g.username}`} onClick={() => remove.mutate(g.id)}>
                Revoke
              </Button>
            )}
          />
        )}
      </ListBody>
    </Card>
  );
}
