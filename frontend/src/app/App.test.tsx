import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { App, loginPath, nextPath } from "./App";

const ADMIN = { username: "admin", role: "admin", scopes: ["auth:self", "metrics:read", "status:read"], method: "session" };

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status });
}

function renderApp() {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={client}>
      <App />
    </QueryClientProvider>,
  );
}

afterEach(() => vi.unstubAllGlobals());

describe("the log-in gate", () => {
  it("sends a visitor to log-in, then back to the page asked for", async () => {
    let loggedIn = false;
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string, init?: RequestInit) => {
        if (url === "/api/auth/login") {
          expect(JSON.parse(String(init?.body))).toEqual({ username: "admin", password: "secret" });
          loggedIn = true;
          return json({ token: "t", expires_at: 0, user: ADMIN, csrf_token: "c" });
        }
        if (!loggedIn) return json({ detail: "authentication required" }, 401);
        return json([]);
      }),
    );
    window.history.replaceState(null, "", "/admin/nothing?engine=nas");
    renderApp();
    await screen.findByRole("button", { name: "Log in" });
    expect(window.location.pathname + window.location.search).toBe("/login?next=%2Fadmin%2Fnothing%3Fengine%3Dnas");
    await userEvent.type(screen.getByLabelText("User name"), "admin");
    await userEvent.type(screen.getByLabelText("Password"), "secret");
    await userEvent.click(screen.getByRole("button", { name: "Log in" }));
    await waitFor(() => expect(window.location.pathname + window.location.search).toBe("/admin/nothing?engine=nas"));
    expect(await screen.findByRole("alert")).toHaveTextContent("There is no page at /admin/nothing");
    expect(screen.getByRole("button", { name: "Log out" })).toBeInTheDocument();
  });

  it("says why a log-in failed", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string) =>
        url === "/api/auth/login" ? json({ detail: "invalid username or password" }, 401) : json({ detail: "authentication required" }, 401),
      ),
    );
    window.history.replaceState(null, "", "/login");
    renderApp();
    await userEvent.type(await screen.findByLabelText("User name"), "admin");
    await userEvent.type(screen.getByLabelText("Password"), "wrong");
    await userEvent.click(screen.getByRole("button", { name: "Log in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Cannot log in: invalid username or password");
  });
});

describe("next", () => {
  it("returns only to paths on this site", () => {
    expect(nextPath("next=%2Fcontainers")).toBe("/containers");
    expect(nextPath("next=https%3A%2F%2Fevil.example")).toBe("/");
    expect(nextPath("next=%2F%2Fevil.example")).toBe("/");
    expect(loginPath("/", "")).toBe("/login");
  });
});
