/** The log-in gate and the page routes; every page but log-in and overview loads on demand. */
import { useQueryClient } from "@tanstack/react-query";
import { lazy, Suspense, useEffect } from "react";
import { Redirect, Route, Switch, useLocation, useSearch } from "wouter";
import { onSessionExpired } from "@/api/http";
import { ME_KEY, useMe } from "@/api/session";
import { ErrorNote, Loading } from "@/components/ui";
import { LoginPage } from "@/features/core/LoginPage";
import { OverviewPage } from "@/features/core/OverviewPage";
import { Shell } from "./Shell";

const ContainersPage = lazy(() => import("@/features/docker/ContainersPage"));
const ContainerPage = lazy(() => import("@/features/docker/ContainerPage"));
const ImagesPage = lazy(() => import("@/features/docker/ImagesPage"));
const VolumesPage = lazy(() => import("@/features/docker/VolumesPage"));
const NetworksPage = lazy(() => import("@/features/docker/NetworksPage"));
const StacksPage = lazy(() => import("@/features/docker/StacksPage"));
const UsersPage = lazy(() => import("@/features/admin/UsersPage"));
const RolesPage = lazy(() => import("@/features/admin/RolesPage"));
const TokensPage = lazy(() => import("@/features/admin/TokensPage"));
const AuditPage = lazy(() => import("@/features/admin/AuditPage"));
const PluginsPage = lazy(() => import("@/features/admin/PluginsPage"));
const TerminalPage = lazy(() => import("@/features/core/TerminalPage"));


/** Where to come back after logging in: `/login?next=/containers%3Fengine%3Dnas`. */
export function loginPath(location: string, search: string): string {
  const here = search ? `${location}?${search}` : location;
  return here === "/" ? "/login" : `/login?next=${encodeURIComponent(here)}`;
}

export function App() {
  const client = useQueryClient();
  const me = useMe();
  const [location] = useLocation();
  const search = useSearch();

  // Any 401 (expired, revoked, logged out elsewhere): back to log-in, then back here.
  useEffect(() => onSessionExpired(() => client.setQueryData(ME_KEY, null)), [client]);

  if (me.isPending) return <Loading what="Connecting to SkyPort" />;
  if (me.isError) return <div className="p-4"><ErrorNote error={me.error} what="Cannot reach the server" /></div>;
  if (location === "/login") return me.data ? <Redirect to={nextPath(search)} /> : <LoginPage next={nextPath(search)} />;
  if (!me.data) return <Redirect to={loginPath(location, search)} />;
  return (
    <Shell>
      <Suspense fallback={<Loading />}>
        <Switch>
          <Route path="/" component={OverviewPage} />
          <Route path="/containers" component={ContainersPage} />
          <Route path="/containers/:id" component={ContainerPage} />
          <Route path="/images" component={ImagesPage} />
          <Route path="/volumes" component={VolumesPage} />
          <Route path="/networks" component={NetworksPage} />
          <Route path="/stacks" component={StacksPage} />
          <Route path="/admin/users" component={UsersPage} />
          <Route path="/admin/roles" component={RolesPage} />
          <Route path="/admin/tokens" component={TokensPage} />
          <Route path="/admin/audit" component={AuditPage} />
          <Route path="/admin/plugins" component={PluginsPage} />
          <Route path="/terminal" component={TerminalPage} />
          <Route>
            <ErrorNote error={`There is no page at ${location}. Pick one on the left.`} what="Not found" />
          </Route>
        </Switch>
      </Suspense>
    </Shell>
  );
}

/** The `next` query parameter, when it is a path on this site (never another origin). */
export function nextPath(search: string): string {
  const next = new URLSearchParams(search).get("next") ?? "/";
  return next.startsWith("/") && !next.startsWith("//") ? next : "/";
}
