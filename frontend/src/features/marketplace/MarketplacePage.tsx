/** The marketplace: every catalog's apps by category, searched, in pages (`?q=&category=&page=`). */
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Link, useLocation, useSearch } from "wouter";
import { api } from "@/api/http";
import { Button, EmptyState, ErrorNote, inputLook, Loading, PageHeader } from "@/components/ui";
import { AppLogo } from "./AppLogo";
import { PER_PAGE, type AppPage } from "./api";

export interface Browse {
  q: string;
  category: string;
  kind: string;
  page: number;
}

export function browseOf(search: string): Browse {
  const params = new URLSearchParams(search);
  const page = Number(params.get("page") ?? "1");
  return { q: params.get("q") ?? "", category: params.get("category") ?? "", kind: params.get("kind") ?? "", page: Number.isInteger(page) && page > 0 ? page : 1 };
}

/** The address of a view of the catalog (empty values and page 1 left out). */
export function browsePath(browse: Browse): string {
  const params = new URLSearchParams();
  if (browse.q) params.set("q", browse.q);
  if (browse.category) params.set("category", browse.category);
  if (browse.kind) params.set("kind", browse.kind);
  if (browse.page > 1) params.set("page", String(browse.page));
  const query = params.toString();
  return query ? `/marketplace?${query}` : "/marketplace";
}

const KINDS = { container: "Containers", stack: "Compose stacks", node: "Node.js apps" } as const;

export default function MarketplacePage() {
  const browse = browseOf(useSearch());
  const [, navigate] = useLocation();
  const go = (change: Partial<Browse>) => navigate(browsePath({ ...browse, page: 1, ...change }), { replace: "q" in change });
  const categories = useQuery({ queryKey: ["marketplace", "categories"], queryFn: () => api<Record<string, number>>("/marketplace/categories"), staleTime: 60_000 });
  const apps = useQuery({
    queryKey: ["marketplace", "apps", browse],
    queryFn: () => api<AppPage>("/marketplace/apps", { query: { q: browse.q, category: browse.category, kind: browse.kind, page: browse.page, per_page: PER_PAGE } }),
    placeholderData: keepPreviousData,
  });
  const pages = apps.data ? Math.max(1, Math.ceil(apps.data.total / PER_PAGE)) : 1;
  const chip = (active: boolean) =>
    `whitespace-nowrap rounded-full border px-2 py-0.5 text-xs ${active ? "border-sky-700 bg-sky-700 text-white" : "border-slate-300 hover:bg-slate-100 dark:border-slate-600 dark:hover:bg-slate-800"}`;
  return (
    <div>
      <PageHeader title="Marketplace">
        <input type="search" aria-label="Search apps" placeholder="Search apps…" className={`${inputLook} w-56`} defaultValue={browse.q} onChange={(e) => go({ q: e.target.value })} />
        <select aria-label="Kind" className={`${inputLook} w-auto`} value={browse.kind} onChange={(e) => go({ kind: e.target.value })}>
          <option value="">every kind</option>
          {Object.entries(KINDS).map(([kind, label]) => (
            <option key={kind} value={kind}>
              {label}
            </option>
          ))}
        </select>
      </PageHeader>
      <ErrorNote error={categories.error} what="Categories" />
      <nav aria-label="Categories" className="mb-3 flex gap-1 overflow-x-auto pb-1 md:flex-wrap">
        <button type="button" className={chip(!browse.category)} aria-pressed={!browse.category} onClick={() => go({ category: "" })}>
          All
        </button>
        {Object.entries(categories.data ?? {}).map(([name, count]) => (
          <button key={name} type="button" className={chip(browse.category === name)} aria-pressed={browse.category === name} onClick={() => go({ category: name })}>
            {name} <span className="opacity-70">{count}</span>
          </button>
        ))}
      </nav>
      {apps.isPending ? (
        <Loading what="Loading the catalog" />
      ) : apps.error ? (
        <ErrorNote error={apps.error} what="Cannot read the catalog" />
      ) : apps.data.items.length === 0 ? (
        <EmptyState title={browse.q || browse.category ? "No app matches." : "The catalog is empty."}>
          {browse.q || browse.category ? "Try other words or another category." : "An admin adds catalogs under Catalog sources."}
        </EmptyState>
      ) : (
        <>
          <p className="mb-2 text-sm text-slate-600 dark:text-slate-400" role="status">
            {apps.data.total} app{apps.data.total === 1 ? "" : "s"}
          </p>
          <ul aria-label="Apps" className="grid gap-2 sm:grid-cols-2 xl:grid-cols-3">
            {apps.data.items.map((app) => (
              <li key={app.id}>
                <Link href={`/marketplace/${encodeURIComponent(app.id)}`} className="flex h-full gap-3 rounded-lg border border-slate-200 bg-white p-3 hover:border-sky-400 dark:border-slate-800 dark:bg-slate-900">
                  <AppLogo src={app.logo} title={app.title} />
                  <span className="min-w-0">
                    <span className="block font-medium text-sky-700 dark:text-sky-400">{app.title}</span>
                    <span className="block text-xs text-slate-600 dark:text-slate-400">
                      {KINDS[app.kind]} · {app.source}
                      {app.categories.length ? ` · ${app.categories.slice(0, 3).join(", ")}` : ""}
                    </span>
                    <span className="mt-1 line-clamp-2 text-sm">{app.summary}</span>
                  </span>
                </Link>
              </li>
            ))}
          </ul>
          {pages > 1 ? (
            <nav aria-label="Pages" className="mt-3 flex items-center justify-center gap-2 text-sm">
              <Button small disabled={browse.page <= 1} onClick={() => go({ page: browse.page - 1 })}>
                Previous
              </Button>
              <span>
                Page {browse.page} of {pages}
              </span>
              <Button small disabled={browse.page >= pages} onClick={() => go({ page: browse.page + 1 })}>
                Next
              </Button>
            </nav>
          ) : null}
        </>
      )}
    </div>
  );
}
