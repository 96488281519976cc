/** The audit log: every change and denial, newest first, filtered by user and action, paged. */
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "@/api/http";
import { DataTable } from "@/components/DataTable";
import { datetime } from "@/components/format";
import { Button, EmptyState, ErrorNote, inputLook, Loading, PageHeader } from "@/components/ui";

interface AuditEntry {
  id: number;
  at: number;
  username: string;
  action: string;
  target: string;
  result: string;
  client: string;
}

interface AuditPage {
  items: AuditEntry[];
  total: number;
  limit: number;
  offset: number;
}

const PAGE = 50;

export default function AuditLogPage() {
  const [username, setUsername] = useState("");
  const [action, setAction] = useState("");
  const [offset, setOffset] = useState(0);
  const page = useQuery({
    queryKey: ["admin", "audit", username, action, offset],
    queryFn: () => api<AuditPage>("/audit", { query: { limit: PAGE, offset, username: username || undefined, action: action || undefined } }),
    placeholderData: keepPreviousData,
  });
  const total = page.data?.total ?? 0;
  return (
    <div>
      <PageHeader title="Audit log">
        <input aria-label="Filter by user" placeholder="User" className={`${inputLook} w-36`} value={username} onChange={(e) => { setUsername(e.target.value); setOffset(0); }} />
        <input aria-label="Filter by action" placeholder="Action, e.g. auth.login" className={`${inputLook} w-56`} value={action} onChange={(e) => { setAction(e.target.value); setOffset(0); }} />
      </PageHeader>
      {page.isPending ? (
        <Loading what="Loading the audit log" />
      ) : page.error ? (
        <ErrorNote error={page.error} what="Cannot read the audit log" />
      ) : page.data.items.length === 0 ? (
        <EmptyState title="Nothing recorded matches.">Clear the filters to see every entry.</EmptyState>
      ) : (
        <>
          <DataTable
            label="Audit log"
            rows={page.data.items}
            rowKey={(e) => String(e.id)}
            columns={[
              { title: "When", render: (e) => datetime(e.at), className: "whitespace-nowrap" },
              { title: "User", render: (e) => e.username },
              { title: "Action", render: (e) => e.action, className: "font-mono text-xs" },
              { title: "Target", render: (e) => e.target, className: "font-mono text-xs break-all" },
              { title: "Result", render: (e) => e.result },
              { title: "Client", render: (e) => e.client, className: "text-xs" },
            ]}
          />
          <div className="mt-2 flex items-center gap-2 text-sm">
            <Button small disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
              Newer
            </Button>
            <span>
              {offset + 1}–{Math.min(offset + PAGE, total)} of {total}
            </span>
            <Button small disabled={offset + PAGE >= total} onClick={() => setOffset(offset + PAGE)}>
              Older
            </Button>
          </div>
        </>
      )}
    </div>
  );
}
