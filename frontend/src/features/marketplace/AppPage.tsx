/** One app of the catalog: what it is (sanitized description, ports, volumes, notes), what
 * installing it needs, and the install form. */
import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "wouter";
import { api } from "@/api/http";
import { useCan } from "@/api/session";
import { Banner, Card, ErrorNote, Loading, PageHeader } from "@/components/ui";
import { AppLogo } from "./AppLogo";
import { appPath, type AppDetail } from "./api";
import { safeHtml } from "./html";
import { InstallForm } from "./InstallForm";

/** Where the app comes from: its image, Compose file or repository. */
export function runsFrom(app: AppDetail): string {
  if (app.container) return `image ${app.container.image}`;
  if (app.stack) return app.stack.repository ? `Compose file ${app.stack.stackfile} of ${app.stack.repository}` : app.stack.compose_url ? `Compose file ${app.stack.compose_url}` : "a Compose file";
  if (app.node) return `Node.js app ${app.node.start} of ${app.node.repository}`;
  return app.kind;
}

function Html({ html, label }: { html: string; label: string }) {
  return (
    <div
      aria-label={label}
      className="space-y-2 text-sm [&_a]:text-sky-700 [&_a]:underline [&_img]:max-w-full [&_li]:ml-5 [&_li]:list-disc dark:[&_a]:text-sky-400"
      dangerouslySetInnerHTML={{ __html: safeHtml(html) }}
    />
  );
}

export default function AppPage() {
  const id = decodeURIComponent(useParams<{ id: string }>().id);
  const canInstall = useCan("marketplace:install");
  const app = useQuery({ queryKey: ["marketplace", "app", id], queryFn: () => api<AppDetail>(appPath(id)) });
  if (app.isPending) return <Loading what="Loading the app" />;
  if (app.error)
    return (
      <div>
        <ErrorNote error={app.error} what={`App ${id}`} />
        <p className="mt-2 text-sm">
          <Link href="/marketplace" className="text-sky-700 underline dark:text-sky-400">
            Back to the marketplace
          </Link>
        </p>
      </div>
    );
  const a = app.data;
  const host = a.requirements.filter((r) => r.scope === "docker:host");
  return (
    <div>
      <div className="mb-3 flex items-start gap-3">
        <AppLogo src={a.logo} title={a.title} size="h-14 w-14" />
        <div className="min-w-0 flex-1">
          <PageHeader title={a.title} />
          <p className="-mt-2 text-sm text-slate-600 dark:text-slate-400">
            {runsFrom(a)} · from {a.source}
            {a.categories.length ? ` · ${a.categories.join(", ")}` : ""}
            {a.website ? (
              <>
                {" · "}
                <a href={a.website} target="_blank" rel="noopener noreferrer nofollow" className="text-sky-700 underline dark:text-sky-400">
                  website
                </a>
              </>
            ) : null}
          </p>
        </div>
      </div>
      {host.length ? (
        <Banner>
          <strong>Needs docker:host</strong> — root on this machine: {host.map((r) => r.reason).join("; ")}. Only admins hold it unless given.
        </Banner>
      ) : null}
      {a.requirements
        .filter((r) => r.scope !== "docker:host")
        .map((r) => (
          <Banner key={r.scope} tone="info">
            Needs {r.scope}: {r.reason}
          </Banner>
        ))}
      {!a.deployer ? <Banner>No plugin here installs {a.kind} apps: install the docker or pm2 plugin.</Banner> : null}
      {a.deployer && canInstall && !a.you_may_install ? <Banner>You may not install this app: it needs {a.requirements.map((r) => r.scope).join(", ")}, which you do not hold.</Banner> : null}
      <div className="grid gap-3 lg:grid-cols-[3fr_2fr]">
        <div className="space-y-3">
          <Card title="About">{a.description ? <Html html={a.description} label="Description" /> : <p className="text-sm text-slate-600 dark:text-slate-400">No description.</p>}</Card>
          {a.note ? (
            <Card title="Notes">
              <Html html={a.note} label="Notes" />
            </Card>
          ) : null}
          <Card title="Ports and volumes">
            <ul aria-label="Ports" className="font-mono text-xs">
              {a.ports.map((p) => (
                <li key={`${p.container}/${p.protocol}`}>
                  {p.host ? `${p.host} → ` : ""}
                  {p.container}/{p.protocol}
                  {p.label ? ` (${p.label})` : ""}
                </li>
              ))}
              {a.ports.length === 0 ? <li>No published ports.</li> : null}
            </ul>
            <ul aria-label="Volumes" className="mt-2 font-mono text-xs">
              {a.volumes.map((v) => (
                <li key={v.container}>
                  {v.host || "a volume of its own"} → {v.container}
                  {v.read_only ? " (read-only)" : ""}
                  {v.label ? ` (${v.label})` : ""}
                </li>
              ))}
              {a.volumes.length === 0 ? <li>No volumes.</li> : null}
            </ul>
          </Card>
        </div>
        {canInstall ? (
          <Card title="Install">
            <InstallForm app={a} />
          </Card>
        ) : null}
      </div>
    </div>
  );
}
