/** The log-in gate and the page routes; every page but log-in and overview loads on demand. */
import { useQueryClient } from "@tanstack/react-query";
import { Suspense, useEffect } from "react";
import { Redirect, Route, Switch, useLocation, useSearch } from "wouter";
import { onSessionExpired } from "@/api/http";
import { liveSocket } from "@/api/live";
import { useChosenNode } from "@/api/node";
import { ME_KEY, useMe } from "@/api/session";
import { ErrorNote, Loading } from "@/components/ui";
import { LoginPage } from "@/features/core/LoginPage";
import { OverviewPage } from "@/features/core/OverviewPage";
import { PAGES } from "./pages";
import { Shell } from "./Shell";

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
  const node = useChosenNode();

  // Any 401 (expired, revoked, logged out elsewhere): back to log-in, then back here.
  useEffect(() => onSessionExpired(() => client.setQueryData(ME_KEY, null)), [client]);
  // A dropped live connection may mean the session ended or lost scopes: ask who we are.
  useEffect(() => {
    liveSocket().onDrop = () => void client.invalidateQueries({ queryKey: ME_KEY });
    return () => {
      liveSocket().onDrop = null;
    };
  }, [client]);

  if (me.isPending) return <Loading what="Connecting to SkyPort" />;
  if (me.isError) return <div className="p-4"><ErrorNote error={me.error} what="Cannot reach the server" /></div>;
  if (location === "/login") return me.data ? <Redirect to={nextPath(search)} /> : <LoginPage next={nextPath(search)} />;
  if (!me.data) return <Redirect to={loginPath(location, search)} />;
  return (
    <Shell>
      {/* Another node chosen: the page starts over, its state and live data from that node. */}
      <Suspense key={node ?? ""} fallback={<Loading />}>
        <Switch>
          <Route path="/" component={OverviewPage} />
          {PAGES.map((page) => (
            <Route key={page.path} path={page.path} component={page.component} />
          ))}
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
