/** Networks: list and remove (the engine's own bridge, host and none stay). */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "@/api/http";
import { useCan } from "@/api/session";
import { DataTable } from "@/components/DataTable";
import { ConfirmDialog } from "@/components/Dialog";
import { ListBody } from "@/components/ListPage";
import { Button, ErrorNote, PageHeader } from "@/components/ui";
import { useDockerEvents, useEngine } from "./api";
import { EnginePicker } from "./EnginePicker";

interface Network {
  id: string;
  name: string;
  driver: string;
  scope: string;
  internal: boolean;
  subnets: string[];
}

const BUILT_IN = new Set(["bridge", "host", "none"]);

export default function NetworksPage() {
  const engine = useEngine();
  const client = useQueryClient();
  const canWrite = useCan("docker:write");
  useDockerEvents();
  const networks = useQuery({ queryKey: ["docker", "networks", engine ?? ""], queryFn: () => api<Network[]>("/docker/networks", { query: { engine } }) });
  const [removing, setRemoving] = useState<Network | null>(null);
  const remove = useMutation({
    mutationFn: (n: Network) => api(`/docker/networks/${encodeURIComponent(n.id)}`, { method: "DELETE", query: { engine } }),
    onSettled: () => void client.invalidateQueries({ queryKey: ["docker", "networks"] }),
  });
  return (
    <div>
      <PageHeader title="Networks">
        <EnginePicker />
      </PageHeader>
      <ErrorNote error={remove.error} what="Cannot remove" />
      <ListBody query={networks} what="networks" empty="Stacks and `skyport docker network create` make them.">
        {(rows) => (
          <DataTable
            label="Networks"
            rows={rows}
            rowKey={(n) => n.id}
            columns={[
              { title: "Name", render: (n) => n.name, className: "font-medium" },
              { title: "Driver", render: (n) => n.driver },
              { title: "Scope", render: (n) => n.scope },
              { title: "Subnets", render: (n) => n.subnets.join(", ") || "–", className: "font-mono text-xs" },
              { title: "Internal", render: (n) => (n.internal ? "yes" : "no") },
            ]}
            actions={
              canWrite
                ? (n) => (BUILT_IN.has(n.name) ? null : <Button small variant="danger" aria-label={`Remove ${n.name}`} onClick={() => setRemoving(n)}>Remove</Button>)
                : undefined
            }
          />
        )}
      </ListBody>
      <ConfirmDialog open={removing !== null} onOpenChange={(o) => !o && setRemoving(null)} title={`Remove network ${removing?.name ?? ""}?`} confirmLabel="Remove" onConfirm={() => removing && remove.mutate(removing)}>
        <p className="text-sm">Containers still attached to it keep the engine from removing it.</p>
      </ConfirmDialog>
    </div>
  );
}
