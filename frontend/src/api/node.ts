/**
 * The cluster node the dashboard shows. Any node answers for the cluster: `?node=NAME` on a
 * request or WebSocket reaches that node's Docker engine, PM2 daemon, metrics and terminals.
 * The choice is kept in the browser and added to every call but log-in and the node list,
 * which the node that answers serves itself.
 */
import { useSyncExternalStore } from "react";

const STORAGE_KEY = "skyport.node";
/** API paths the answering node serves itself, whichever node is chosen. */
const OWN_PATHS = ["/auth/", "/nodes"];

const listeners = new Set<() => void>();

/** The node chosen in this browser, or null: the node that answers (one server, or the balancer's pick). */
export function chosenNode(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage refused (a locked-down browser): no choice is kept
  }
}

/** Keep `name` as the chosen node (null: none) and tell whoever follows the choice. */
export function chooseNode(name: string | null): void {
  try {
    if (name) localStorage.setItem(STORAGE_KEY, name);
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    return;
  }
  listeners.forEach((listener) => listener());
}

/** Send the request for API path `path` at `url` to the chosen node, unless it names one already. */
export function routeToNode(url: URL, path: string): void {
  const node = chosenNode();
  if (!node || url.searchParams.has("node") || OWN_PATHS.some((own) => path.startsWith(own))) return;
  url.searchParams.set("node", node);
}

function follow(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The chosen node, re-rendering on a change. */
export function useChosenNode(): string | null {
  return useSyncExternalStore(follow, chosenNode);
}
