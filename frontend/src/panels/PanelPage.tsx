/**
 * The pages of a plugin that ships no frontend code: `/plugins/<plugin>` shows all its panels,
 * `/plugins/<plugin>/<panel id>` one of them.
 */
import { Link, useParams } from "wouter";
import { usePanels, usePlugins } from "@/api/queries";
import { panelPath, pluginLabel } from "@/app/nav";
import { Card, ErrorNote, Loading, PageHeader } from "@/components/ui";
import { PanelView } from "./Panel";

export default function PanelPage() {
  const params = useParams<{ plugin: string; panel?: string }>();
  const plugin = decodeURIComponent(params.plugin);
  const id = params.panel === undefined ? undefined : decodeURIComponent(params.panel);
  const panels = usePanels();
  const summary = usePlugins().data?.find((p) => p.name === plugin)?.summary;
  if (panels.isPending) return <Loading what="Loading the panels" />;
  if (panels.error) return <ErrorNote error={panels.error} what="Dashboard panels" />;
  const own = panels.data.filter((p) => p.plugin === plugin);
  const shown = id === undefined ? own : own.filter((p) => p.id === id);
  if (shown.length === 0) {
    const what = id === undefined ? "any panel" : `a panel ${id}`;
    return <ErrorNote error={`The plugin ${plugin} has no ${what} you may see: is it loaded, and do you hold its scope?`} what="Nothing to show" />;
  }
  return (
    <div>
      <PageHeader title={id === undefined ? pluginLabel(plugin) : shown[0].title}>
        {summary ? <span className="text-sm text-slate-600 dark:text-slate-400">{summary}</span> : null}
      </PageHeader>
      {id === undefined ? (
        <div className="grid gap-3 lg:grid-cols-2">
          {shown.map((panel) => (
            <Card
              key={panel.id}
              title={panel.title}
              className={panel.kind === "table" ? "lg:col-span-2" : ""}
              actions={
                <Link href={panelPath(panel)} className="text-xs text-sky-700 underline dark:text-sky-400" aria-label={`Open ${panel.title} on its own`}>
                  Open
                </Link>
              }
            >
              <PanelView panel={panel} />
            </Card>
          ))}
        </div>
      ) : (
        <>
          <PanelView panel={shown[0]} />
          <p className="mt-3 text-sm">
            <Link href={panelPath({ plugin })} className="text-sky-700 underline dark:text-sky-400">
              All of {pluginLabel(plugin)}
            </Link>
          </p>
        </>
      )}
    </div>
  );
}
