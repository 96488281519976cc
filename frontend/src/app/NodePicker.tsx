/** Choose the cluster node whose Docker engine, PM2 processes, metrics and terminals the pages
 * show; hidden on a single server. */
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect } from "react";
import { api } from "@/api/http";
import { liveSocket } from "@/api/live";
import { chooseNode, chosenNode, useChosenNode } from "@/api/node";
import type { NodeInfo } from "@/api/types";
import { inputLook } from "@/components/ui";

const NODES_KEY = "nodes";

/** The cluster's nodes, up or down (a single server lists itself), read again every 15 s. */
function useNodes() {
  return useQuery({ queryKey: [NODES_KEY], queryFn: () => api<NodeInfo[]>("/nodes"), refetchInterval: 15_000 });
}

/** Show node `name` (null: the node that answers): every answer is read again from it, live data too. */
function useSwitchNode(): (name: string | null) => void {
  const client = useQueryClient();
  return useCallback(
    (name: string | null) => {
      if (name === chosenNode()) return;
      chooseNode(name);
      liveSocket().reconnect();
      void client.resetQueries({ predicate: (query) => !["auth", NODES_KEY].includes(String(query.queryKey[0])) });
    },
    [client],
  );
}

export function NodePicker() {
  const nodes = useNodes();
  const chosen = useChosenNode();
  const switchNode = useSwitchNode();
  const listed = nodes.data ?? [];
  // A node chosen earlier that the cluster no longer lists: back to the node that answers.
  const gone = Boolean(chosen && nodes.data && !listed.some((n) => n.name === chosen));
  useEffect(() => {
    if (gone) switchNode(null);
  }, [gone, switchNode]);
  if (listed.length < 2) return null;
  const shown = chosen ?? listed.find((n) => n.this)?.name ?? "";
  return (
    <label className="flex items-center gap-1">
      <span className="hidden text-slate-600 lg:inline dark:text-slate-400">Node</span>
      <select aria-label="Node" className={`${inputLook} w-auto py-0.5`} value={shown} onChange={(e) => switchNode(e.target.value)}>
        {listed.map((node) => (
          <option key={node.name} value={node.name}>
            {node.name}
            {node.state === "down" ? " (down)" : ""}
          </option>
        ))}
      </select>
    </label>
  );
}
