/** The dashboard's HTTP client: same-origin cookie session, CSRF header, readable errors. */

import { routeToNode } from "./node";

export const CSRF_COOKIE = "skyport_csrf";
export const CSRF_HEADER = "X-CSRF-Token";

/** A failed API call: the HTTP status and the server's message (its `detail`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly path: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** The error of a request that got no answer at all. */
function unreachable(url: string): ApiError {
  return new ApiError(0, "cannot reach the SkyPort server: check that it is running", url);
}

type Listener = () => void;
const expiryListeners = new Set<Listener>();

/** Called whenever the server answers 401: the session is gone (expired, revoked, logged out). */
export function onSessionExpired(listener: Listener): () => void {
  expiryListeners.add(listener);
  return () => expiryListeners.delete(listener);
}

export function readCookie(name: string): string {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return "";
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined | null>;
  signal?: AbortSignal;
}

/**
 * `"/docker/ps"` → `"/api/docker/ps?all=true"`; undefined and null query values are left out.
 * In a cluster, `node` names the node chosen in the dashboard (see `./node`).
 */
export function apiUrl(path: string, query?: RequestOptions["query"]): string {
  const url = new URL(`/api${path}`, window.location.origin);
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, String(value));
  }
  routeToNode(url, path);
  return url.pathname + url.search;
}

/** The message a person reads for an error body (Litestar's `{detail, extra}` or plain text). */
export function errorMessage(status: number, body: unknown): string {
  if (body && typeof body === "object" && "detail" in body) {
    const { detail, extra } = body as { detail: unknown; extra?: unknown };
    const text = String(detail);
    if (Array.isArray(extra) && extra.length) {
      const reasons = extra
        .map((e) => (e && typeof e === "object" && "message" in e ? String(e.message) : ""))
        .filter(Boolean);
      if (reasons.length) return `${text}: ${reasons.join("; ")}`;
    }
    return text;
  }
  if (typeof body === "string" && body.trim()) return body.trim();
  return `the server answered ${status}`;
}

/** Call the API; resolves to the decoded JSON (or undefined for 204), rejects with ApiError. */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const method = options.method ?? "GET";
  const headers: Record<string, string> = { Accept: "application/json" };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers[CSRF_HEADER] = readCookie(CSRF_COOKIE);
  const url = apiUrl(path, options.query);
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers,
      credentials: "same-origin",
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (error) {
    if ((error as Error).name === "AbortError") throw error;
    throw unreachable(url);
  }
  const body = decoded(await response.text());
  if (!response.ok) {
    if (response.status === 401 && path !== "/auth/login") expiryListeners.forEach((l) => l());
    throw new ApiError(response.status, errorMessage(response.status, body), url);
  }
  return body as T;
}

/** A file's bytes from the API (a download), or the ApiError saying why not. */
export async function apiBlob(path: string, query?: RequestOptions["query"]): Promise<Blob> {
  const url = apiUrl(path, query);
  const response = await fetch(url, { credentials: "same-origin" }).catch(() => {
    throw unreachable(url);
  });
  if (!response.ok) throw new ApiError(response.status, errorMessage(response.status, decoded(await response.text())), url);
  return response.blob();
}

/** The body of a response as the API client reads it: JSON, else text, else undefined. */
function decoded(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Send `body` as the raw body of a request (an upload), reporting the share sent (0 to 1) as it
 * goes: fetch cannot tell upload progress, XMLHttpRequest can. Same session, CSRF and errors as `api`.
 */
export function upload<T>(path: string, body: Blob, options: { method?: string; query?: RequestOptions["query"]; onProgress?: (share: number) => void } = {}): Promise<T> {
  const url = apiUrl(path, options.query);
  return new Promise<T>((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open(options.method ?? "PUT", url);
    request.withCredentials = true;
    request.setRequestHeader("Accept", "application/json");
    request.setRequestHeader("Content-Type", "application/octet-stream");
    request.setRequestHeader(CSRF_HEADER, readCookie(CSRF_COOKIE));
    request.upload.onprogress = (event) => event.lengthComputable && options.onProgress?.(event.loaded / event.total);
    request.onerror = () => reject(unreachable(url));
    request.onload = () => {
      const answer = decoded(request.responseText);
      if (request.status >= 200 && request.status < 300) {
        options.onProgress?.(1);
        resolve(answer as T);
        return;
      }
      if (request.status === 401) expiryListeners.forEach((l) => l());
      reject(new ApiError(request.status, errorMessage(request.status, answer), url));
    };
    request.send(body);
  });
}
