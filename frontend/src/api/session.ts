/** Who is logged in: the `me` query, log-in and log-out. */
import { useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { api, ApiError } from "./http";
import { liveSocket } from "./live";
import type { LoginResponse, UserInfo } from "./types";

export const ME_KEY = ["auth", "me"] as const;

/** The logged-in user, or null when nobody is (a 401). */
export async function fetchMe(): Promise<UserInfo | null> {
  try {
    return await api<UserInfo>("/auth/me");
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

export function useMe() {
  return useQuery({ queryKey: ME_KEY, queryFn: fetchMe, staleTime: Infinity, retry: false });
}

/** The logged-in user; only for pages behind the log-in gate. */
export function useUser(): UserInfo {
  const { data } = useMe();
  if (!data) throw new Error("useUser() outside the log-in gate");
  return data;
}

/** Whether `user` holds `scope`, as the server checks it (`*` is every scope). */
export function hasScope(user: UserInfo, scope: string): boolean {
  return user.scopes.includes("*") || user.scopes.includes(scope);
}

/** Whether `user` is an admin as the server judges one: holding every scope (`*`). */
export function isAdmin(user: UserInfo): boolean {
  return user.scopes.includes("*");
}

export function useCan(scope: string): boolean {
  return hasScope(useUser(), scope);
}

/** Drop every cached answer but `me` (whose observers must see the change). */
function forgetAnswers(client: QueryClient) {
  client.removeQueries({ predicate: (query) => query.queryKey[1] !== ME_KEY[1] });
}

export async function logIn(client: QueryClient, username: string, password: string) {
  const result = await api<LoginResponse>("/auth/login", {
    method: "POST",
    body: { username, password },
  });
  forgetAnswers(client);
  client.setQueryData(ME_KEY, result.user);
  return result.user;
}

/** End the session server-side, close live data, forget every cached answer. */
export async function logOut(client: QueryClient) {
  try {
    await api("/auth/logout", { method: "POST" });
  } finally {
    liveSocket().close();
    forgetAnswers(client);
    client.setQueryData(ME_KEY, null);
  }
}

export function useLogOut() {
  const client = useQueryClient();
  return () => logOut(client);
}
