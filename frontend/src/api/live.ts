/**
 * One shared WebSocket to `/ws` for every live view: topics are reference-counted, so
 * two charts on `metrics` cost one subscription, and re-subscribed after a reconnect.
 */

import { routeToNode } from "./node";

export type TopicHandler = (data: unknown) => void;
export type ErrorHandler = (message: string) => void;

interface ServerFrame {
  type?: string;
  topic?: string;
  data?: unknown;
  message?: string;
  topics?: string[];
}

type SocketFactory = (url: string) => WebSocket;

const RETRY_MS = [500, 1000, 2000, 5000];

export class LiveSocket {
  private socket: WebSocket | null = null;
  private handlers = new Map<string, Set<TopicHandler>>();
  private errorHandlers = new Map<string, Set<ErrorHandler>>();
  /** Topics the server has said it sends us (its `subscribed` answer), and who waits for that. */
  private acknowledged = new Set<string>();
  private waiting = new Map<string, Set<() => void>>();
  private attempts = 0;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  /** Called when the server drops the connection (4401: the session ended; 4403: scopes lost). */
  onDrop: ((code: number) => void) | null = null;

  /** `url` is read again on every (re)connection: the chosen node may have changed. */
  constructor(
    private readonly url: () => string,
    private readonly connect: SocketFactory = (u) => new WebSocket(u),
  ) {}

  /** Follow `topic`; returns the function that stops following it. */
  subscribe(topic: string, handler: TopicHandler, onError?: ErrorHandler): () => void {
    const first = !this.handlers.has(topic);
    if (first) this.handlers.set(topic, new Set());
    this.handlers.get(topic)!.add(handler);
    if (onError) {
      if (!this.errorHandlers.has(topic)) this.errorHandlers.set(topic, new Set());
      this.errorHandlers.get(topic)!.add(onError);
    }
    this.closed = false;
    if (!this.socket) this.open();
    else if (first) this.send({ type: "subscribe", topics: [topic] });
    return () => this.unsubscribe(topic, handler, onError);
  }

  /** Resolves once the server has acknowledged `topic` (so nothing published after is missed),
   * or after `timeout` ms whatever happened: the caller goes on either way. */
  subscribed(topic: string, timeout = 3000): Promise<void> {
    if (this.acknowledged.has(topic)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiting.get(topic)?.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeout);
      if (!this.waiting.has(topic)) this.waiting.set(topic, new Set());
      this.waiting.get(topic)!.add(done);
    });
  }

  /** Close the connection and forget every subscription (log-out). */
  close(): void {
    this.closed = true;
    this.handlers.clear();
    this.errorHandlers.clear();
    if (this.retry) clearTimeout(this.retry);
    this.socket?.close(1000);
    this.socket = null;
  }

  /** Connect anew (to the address as it is now), following the same topics. */
  reconnect(): void {
    const old = this.socket;
    this.socket = null; // its close is not a drop: no retry, no onDrop
    this.acknowledged.clear();
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    old?.close(1000);
    if (this.handlers.size) this.open();
  }

  get topics(): string[] {
    return [...this.handlers.keys()];
  }

  private unsubscribe(topic: string, handler: TopicHandler, onError?: ErrorHandler): void {
    const set = this.handlers.get(topic);
    if (!set) return;
    set.delete(handler);
    if (onError) this.errorHandlers.get(topic)?.delete(onError);
    if (set.size === 0) {
      this.handlers.delete(topic);
      this.errorHandlers.delete(topic);
      this.acknowledged.delete(topic);
      this.send({ type: "unsubscribe", topics: [topic] });
    }
  }

  private open(): void {
    const socket = this.connect(this.url());
    this.socket = socket;
    socket.onopen = () => {
      this.attempts = 0;
      if (this.handlers.size) this.send({ type: "subscribe", topics: this.topics });
    };
    socket.onmessage = (event) => this.receive(String(event.data));
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.acknowledged.clear();
      if (this.closed) return;
      this.onDrop?.(event.code);
      if (this.handlers.size === 0) return;
      const delay = RETRY_MS[Math.min(this.attempts++, RETRY_MS.length - 1)];
      this.retry = setTimeout(() => {
        this.retry = null;
        if (!this.socket && this.handlers.size) this.open();
      }, delay);
    };
  }

  private receive(raw: string): void {
    let frame: ServerFrame;
    try {
      frame = JSON.parse(raw) as ServerFrame;
    } catch {
      return;
    }
    if (frame.type === "subscribed") {
      for (const topic of frame.topics ?? []) {
        this.acknowledged.add(topic);
        this.waiting.get(topic)?.forEach((done) => done());
      }
      return;
    }
    if (frame.topic === undefined) return;
    if (frame.type === "error") {
      this.errorHandlers.get(frame.topic)?.forEach((h) => h(frame.message ?? "error"));
      return;
    }
    this.handlers.get(frame.topic)?.forEach((h) => h(frame.data));
  }

  private send(message: object): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }
}

/** The WebSocket address of `path` on this server, sent to the chosen node (see `./node`). */
export function socketUrl(path: string): string {
  const { protocol, host } = window.location;
  const url = new URL(path, `${protocol === "https:" ? "wss" : "ws"}://${host}`);
  routeToNode(url, path);
  return url.href;
}

let shared: LiveSocket | null = null;

/** The page's one connection to `/ws`. */
export function liveSocket(): LiveSocket {
  shared ??= new LiveSocket(() => socketUrl("/ws"));
  return shared;
}
