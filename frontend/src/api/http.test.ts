import { afterEach, describe, expect, it, vi } from "vitest";
import { api, ApiError, apiUrl, errorMessage, onSessionExpired } from "./http";
import { chooseNode } from "./node";

function answer(status: number, body: unknown) {
  return vi.fn(async () => new Response(body === undefined ? null : JSON.stringify(body), { status }));
}

afterEach(() => {
  vi.unstubAllGlobals();
  document.cookie = "skyport_csrf=; max-age=0";
});

describe("apiUrl", () => {
  afterEach(() => chooseNode(null));

  it("puts the path under /api and leaves out empty query values", () => {
    expect(apiUrl("/docker/ps", { all: true, engine: undefined, filters: "" })).toBe("/api/docker/ps?all=true");
  });

  it("sends a request to the node chosen, unless it names one or the answering node serves it", () => {
    chooseNode("node-b");
    expect(apiUrl("/docker/ps", { all: true })).toBe("/api/docker/ps?all=true&node=node-b");
    expect(apiUrl("/pm2/list", { node: "all" })).toBe("/api/pm2/list?node=all");
    expect(apiUrl("/auth/me")).toBe("/api/auth/me");
    expect(apiUrl("/nodes")).toBe("/api/nodes");
    chooseNode(null);
    expect(apiUrl("/docker/ps")).toBe("/api/docker/ps");
  });
});

describe("errorMessage", () => {
  it("joins a validation error's reasons to its detail", () => {
    const body = { detail: "Validation failed for POST /api/docker/run", extra: [{ message: "Expected `str`", key: "image" }] };
    expect(errorMessage(400, body)).toBe("Validation failed for POST /api/docker/run: Expected `str`");
  });
  it("says the status when the body says nothing", () => {
    expect(errorMessage(502, "")).toBe("the server answered 502");
  });
});

describe("api", () => {
  it("repeats the CSRF cookie in the header of a change", async () => {
    document.cookie = "skyport_csrf=abc123";
    const fetch = answer(200, { ok: true });
    vi.stubGlobal("fetch", fetch);
    await api("/docker/containers/web/stop", { method: "POST" });
    const init = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect((init[1].headers as Record<string, string>)["X-CSRF-Token"]).toBe("abc123");
    expect(init[1].credentials).toBe("same-origin");
  });

  it("rejects with the server's message and status", async () => {
    vi.stubGlobal("fetch", answer(503, { status_code: 503, detail: "Docker engine local is unavailable" }));
    const failure = await api("/docker/ps").catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApiError);
    expect((failure as ApiError).status).toBe(503);
    expect((failure as ApiError).message).toBe("Docker engine local is unavailable");
  });

  it("tells the session listeners when the server answers 401", async () => {
    vi.stubGlobal("fetch", answer(401, { detail: "session expired" }));
    const expired = vi.fn();
    const stop = onSessionExpired(expired);
    await api("/status").catch(() => undefined);
    stop();
    expect(expired).toHaveBeenCalledOnce();
  });

  it("says the server cannot be reached when the request fails", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => Promise.reject(new TypeError("Failed to fetch"))));
    await expect(api("/status")).rejects.toThrow("cannot reach the SkyPort server");
  });
});
