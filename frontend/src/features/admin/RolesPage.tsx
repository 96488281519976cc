/** Roles and their scopes: the built-in ones, and custom roles to add, change or remove. */
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

export function useRoles() {
  return useQuery({ queryKey: ["admin", "roles"], queryFn: () => api<Role[]>("/roles") });
}

export default function RolesPage() {
  const client = useQueryClient();
  const roles = useRoles();
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
    const scopes = String(form.get("scopes")).split(/[\s,]+/).filter(Boolean);
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
                <span className="text-xs text-slate-500">built in</span>
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
          <Field label="Scopes" hint="Space separated, e.g. docker:read metrics:read (the server names unknown ones)">
            <textarea name="scopes" rows={3} defaultValue={role?.scopes.join(" ")} className={`${inputClass} font-mono`} />
          </Field>
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
