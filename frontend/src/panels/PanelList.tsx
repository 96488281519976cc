/** The overview's panels: those of plugins that ship no pages of their own. */
import { usePanels } from "@/api/queries";
import { PLUGINS_WITH_PAGES } from "@/app/nav";
import { Card, ErrorNote } from "@/components/ui";
import { PanelView } from "./Panel";

export function PanelList() {
  const panels = usePanels();
  const shown = (panels.data ?? []).filter((p) => !PLUGINS_WITH_PAGES.has(p.plugin));
  if (panels.error) return <ErrorNote error={panels.error} what="Dashboard panels" />;
  return (
    <div className="grid gap-3 lg:grid-cols-2">
      {shown.map((panel) => (
        <Card key={`${panel.plugin}/${panel.id}`} title={panel.title}>
          <PanelView panel={panel} />
        </Card>
      ))}
    </div>
  );
}
