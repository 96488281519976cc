/** What every list page shares: loading, the error that says what failed, the empty state. */
import type { UseQueryResult } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { EmptyState, ErrorNote, Loading } from "./ui";

export function ListBody<T>({
  query,
  what,
  empty,
  children,
}: {
  query: UseQueryResult<T[]>;
  what: string;
  empty: ReactNode;
  children: (rows: T[]) => ReactNode;
}) {
  if (query.isPending) return <Loading what={`Loading ${what}`} />;
  if (query.error) return <ErrorNote error={query.error} what={`Cannot list ${what}`} />;
  if (query.data.length === 0) return <EmptyState title={`No ${what} yet.`}>{empty}</EmptyState>;
  return <>{children(query.data)}</>;
}
