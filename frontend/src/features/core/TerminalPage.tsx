/** A shell on the SkyPort host, for admins, when `terminal.host_shell` is on. */
import { useQuery } from "@tanstack/react-query";
import { lazy, Suspense } from "react";
import { api } from "@/api/http";
import type { TerminalInfo } from "@/api/types";
import { EmptyState, ErrorNote, Loading, PageHeader } from "@/components/ui";

const Terminal = lazy(() => import("@/components/Terminal"));

export default function TerminalPage() {
  const terminals = useQuery({ queryKey: ["terminals"], queryFn: () => api<TerminalInfo[]>("/terminals") });
  const host = terminals.data?.find((t) => t.name === "host");
  return (
    <div>
      <PageHeader title="Host terminal" />
      {terminals.isPending ? (
        <Loading />
      ) : terminals.error ? (
        <ErrorNote error={terminals.error} what="Cannot list terminals" />
      ) : !host ? (
        <EmptyState title="The host shell is off.">
          Turn it on in the server's settings (<code>terminal: {"{host_shell: true}"}</code>) and restart SkyPort.
        </EmptyState>
      ) : !host.allowed ? (
        <ErrorNote error={`The host shell needs the scope ${host.scope}.`} />
      ) : (
        <Suspense fallback={<Loading what="Loading the terminal" />}>
          <Terminal provider="host" target="" label="Terminal on the host" />
        </Suspense>
      )}
    </div>
  );
}
