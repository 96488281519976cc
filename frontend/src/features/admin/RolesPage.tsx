/** Roles and their scopes: the built-in ones, custom roles to add, change or remove, and
 * every scope the core and the plugins define. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api } from "@/api/http";
import { DataTable } from "@/components/DataTable";
import { Dialog } from "@/components/Dialog";
import { ListBody } from "@/components/ListPage";
import { Button, ErrorNote, Field, inputClass, PageHeader } from "@/components/ui";

export interface Role {
  name: string;
  description: string;
  scopes: string[];
  builtin: boolean;
}

interface PermissionInfo {
  name: string;
  description: string;
  level: string;
  plugin: string;
}

export function useRoles() {
  return useQuery({ queryKey: ["admin", "roles"], queryFn: () => api<Role[]>("/roles") });
}

export default function RolesPage() {
  const client = useQueryClient();
  const roles = useRoles();
  const permissions = useQuery({ queryKey: ["admin", "permissions"], queryFn: () => api<PermissionInfo[]>("/permissions") });
  const [editing, setEditing] = useState<Role | "new" | null>(null);
  const refresh = () => void client.invalidateQueries({ queryKey: ["admin", "roles"] });
  const save = useMutation({
    mutationFn: ({ name, body }: { name: string; body: Record<string, unknown> }) =>
      editing === "new" ? api("/roles", { method: "POST", body: { name, ...body } }) : api(`/roles/${encodeURIComponent(name)}`, { method: "PUT", body }),
    onSuccess: () => setEditing(null),
    onSettled: refresh,
  });
  const remove = useMutation({ mutationFn: (name: string) => api(`/roles/${encodeURIComponent(name)}`, { method: "DELETE" }), onSettled: refresh });
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const scopes = form.getAll("scopes").map(String);
    save.mutate({ name: String(form.get("name") ?? (editing !== "new" ? editing?.name : "")), body: { scopes, description: form.get("description") } });
  }
  const role = editing !== "new" ? editing : null;
  return (
    <div>
      <PageHeader title="Roles">
        <Button variant="primary" onClick={() => setEditing("new")}>
          Add role
        </Button>
      </PageHeader>
      <ErrorNote error={remove.error} what="Cannot remove" />
      <ListBody query={roles} what="roles" empty="">
        {(rows) => (
          <DataTable
            label="Roles"
            rows={rows}
            rowKey={(r) => r.name}
            columns={[
              { title: "Role", render: (r) => r.name, className: "font-medium" },
              { title: "Description", render: (r) => r.description },
              { title: "Scopes", render: (r) => r.scopes.join(" "), className: "font-mono text-xs" },
            ]}
            actions={(r) =>
              r.builtin ? (
                <span className="text-xs text-slate-600 dark:text-slate-400">built in</span>
              ) : (
                <>
                  <Button small aria-label={`Edit ${r.name}`} onClick={() => setEditing(r)}>
                    Edit
                  </Button>
                  <Button small className="ml-1" variant="danger" aria-label={`Remove ${r.name}`} onClick={() => remove.mutate(r.name)}>
                    Remove
                  </Button>
                </>
              )
            }
          />
        )}
      </ListBody>
      <h2 className="mb-2 mt-4 text-sm font-semibold text-slate-600 dark:text-slate-300">Scopes</h2>
      <ListBody query={permissions} what="scopes" empty="">
        {(rows) => (
          <DataTable
            label="Scopes"
            rows={rows}
            rowKey={(p) => p.name}
            columns={[
              { title: "Scope", render: (p) => p.name, className: "font-mono text-xs" },
              { title: "Allows", render: (p) => p.description },
              { title: "Built-in roles", render: (p) => ({ read: "viewer, operator, admin", write: "operator, admin", admin: "admin" })[p.level] ?? p.level },
              { title: "From", render: (p) => p.plugin },
            ]}
          />
        )}
      </ListBody>
      <Dialog open={editing !== null} onOpenChange={(o) => !o && setEditing(null)} title={role ? `Role ${role.name}` : "Add a role"}>
        <form onSubmit={submit} className="space-y-3" key={role?.name ?? "new"}>
          {role ? null : (
            <Field label="Name">
              <input name="name" required className={inputClass} />
            </Field>
          )}
          <Field label="Description">
            <input name="description" defaultValue={role?.description} className={inputClass} />
          </Field>
          <fieldset className="text-sm">
            <legend className="mb-1 font-medium">Scopes</legend>
            <div className="max-h-64 space-y-0.5 overflow-auto">
              {(permissions.data ?? []).map((p) => (
                <label key={p.name} className="flex items-start gap-2">
                  <input type="checkbox" name="scopes" value={p.name} defaultChecked={role?.scopes.includes(p.name)} className="mt-0.5" />
                  <span>
                    <code className="text-xs">{p.name}</code> <span className="text-xs text-slate-600 dark:text-slate-400">{p.description}</span>
                  </span>
                </label>
              ))}
            </div>
          </fieldset>
          <ErrorNote error={save.error} what="Cannot save" />
          <div className="flex justify-end gap-2">
            <Button onClick={() => setEditing(null)}>Cancel</Button>
            <Button type="submit" variant="primary">Save</Button>
          </div>
        </form>
      </Dialog>
    </div>
  );
}
