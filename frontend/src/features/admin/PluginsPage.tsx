/** Plugins as the server loaded them, with the error of each that failed; the server's settings. */
import { useQuery } from "@tanstack/react-query";
import { api } from "@/api/http";
import { usePlugins } from "@/api/queries";
import { useCan } from "@/api/session";
import type { Status } from "@/api/types";
import { DataTable } from "@/components/DataTable";
import { duration } from "@/components/format";
import { ListBody } from "@/components/ListPage";
import { Card, ErrorNote, PageHeader, StateBadge } from "@/components/ui";

export default function PluginsPage() {
  const plugins = usePlugins();
  const status = useQuery({ queryKey: ["status"], queryFn: () => api<Status>("/status") });
  const canSeeSettings = useCan("settings:read");
  const settings = useQuery({
    queryKey: ["admin", "settings"],
    queryFn: () => api<Record<string, unknown>>("/settings"),
    enabled: canSeeSettings,
  });
  return (
    <div>
      <PageHeader title="Plugins" />
      {status.data ? (
        <Card title="Server" className="mb-3">
          <p className="text-sm">
            SkyPort {status.data.version} on {status.data.hostname}, up {duration(status.data.uptime_seconds)}.
          </p>
        </Card>
      ) : null}
      <ListBody query={plugins} what="plugins" empty="Install one, e.g. pip install skyport-docker, and restart the server.">
        {(rows) => (
          <DataTable
            label="Plugins"
            rows={rows}
            rowKey={(p) => p.name}
            columns={[
              { title: "Plugin", render: (p) => p.name, className: "font-medium" },
              { title: "State", render: (p) => <StateBadge state={p.status} /> },
              { title: "Distribution", render: (p) => (p.builtin ? "built in" : `${p.distribution} ${p.version}`) },
              { title: "Module", render: (p) => p.module, className: "font-mono text-xs" },
              { title: "Error", render: (p) => (p.error ? <span className="text-red-700 dark:text-red-400">{p.error}</span> : "–") },
            ]}
          />
        )}
      </ListBody>
      {canSeeSettings ? (
        <Card title="Settings (defaults < file < environment; secrets hidden; change them in the config file and restart)" className="mt-3">
          <ErrorNote error={settings.error} what="Cannot read the settings" />
          {settings.data ? (
            <pre aria-label="Effective settings" tabIndex={0} className="max-h-[60vh] overflow-auto text-xs">
              {JSON.stringify(settings.data, null, 2)}
            </pre>
          ) : null}
        </Card>
      ) : null}
    </div>
  );
}
