import { afterEach, describe, expect, it, vi } from "vitest";
import { LiveSocket, socketUrl } from "./live";
import { chooseNode } from "./node";

/** The browser's side of one WebSocket, driven by the test. */
class FakeSocket {
  readyState = 0;
  sent: unknown[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  send(text: string) {
    this.sent.push(JSON.parse(text));
  }
  close(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
  open() {
    this.readyState = WebSocket.OPEN;
    this.onopen?.();
  }
  deliver(frame: object) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
}

function setUp(address = () => "ws://test/ws") {
  const sockets: FakeSocket[] = [];
  const urls: string[] = [];
  const live = new LiveSocket(address, (url) => {
    const socket = new FakeSocket();
    sockets.push(socket);
    urls.push(url);
    return socket as unknown as WebSocket;
  });
  return { live, sockets, urls };
}

describe("LiveSocket", () => {
  it("subscribes once per topic however many listen, and delivers to each", () => {
    const { live, sockets } = setUp();
    const a = vi.fn();
    const b = vi.fn();
    live.subscribe("metrics", a);
    live.subscribe("metrics", b);
    sockets[0].open();
    expect(sockets[0].sent).toEqual([{ type: "subscribe", topics: ["metrics"] }]);
    sockets[0].deliver({ topic: "metrics", data: { collector: "host" } });
    expect(a).toHaveBeenCalledWith({ collector: "host" });
    expect(b).toHaveBeenCalledOnce();
  });

  it("unsubscribes when the last listener leaves", () => {
    const { live, sockets } = setUp();
    const stopA = live.subscribe("docker.events", vi.fn());
    const stopB = live.subscribe("docker.events", vi.fn());
    sockets[0].open();
    stopA();
    expect(sockets[0].sent).toHaveLength(1);
    stopB();
    expect(sockets[0].sent.at(-1)).toEqual({ type: "unsubscribe", topics: ["docker.events"] });
  });

  it("passes a topic's error to its error handlers", () => {
    const { live, sockets } = setUp();
    const onError = vi.fn();
    live.subscribe("docker.events", vi.fn(), onError);
    sockets[0].open();
    sockets[0].deliver({ type: "error", topic: "docker.events", message: "topic 'docker.events' needs scope docker:read" });
    expect(onError).toHaveBeenCalledWith("topic 'docker.events' needs scope docker:read");
  });

  it("reconnects after a drop and subscribes again to every topic", () => {
    vi.useFakeTimers();
    const { live, sockets } = setUp();
    live.subscribe("metrics", vi.fn());
    sockets[0].open();
    sockets[0].close();
    vi.advanceTimersByTime(600);
    expect(sockets).toHaveLength(2);
    sockets[1].open();
    expect(sockets[1].sent).toEqual([{ type: "subscribe", topics: ["metrics"] }]);
    vi.useRealTimers();
  });

  it("tells who listens for drops why the server closed", () => {
    const { live, sockets } = setUp();
    const dropped = vi.fn();
    live.onDrop = dropped;
    live.subscribe("metrics", vi.fn());
    sockets[0].open();
    sockets[0].close(4401);
    expect(dropped).toHaveBeenCalledWith(4401);
  });

  it("says when the server has acknowledged a topic", async () => {
    const { live, sockets } = setUp();
    live.subscribe("vps.run:job1", vi.fn());
    sockets[0].open();
    let ready = false;
    const waiting = live.subscribed("vps.run:job1").then(() => (ready = true));
    await Promise.resolve();
    expect(ready).toBe(false);
    sockets[0].deliver({ type: "subscribed", topics: ["vps.run:job1"] });
    await waiting;
    expect(ready).toBe(true);
    await live.subscribed("vps.run:job1"); // at once, once acknowledged
  });

  it("moves to the address as it is now on reconnect(), following the same topics, without a drop", () => {
    let node = "node-a";
    const { live, sockets, urls } = setUp(() => `ws://test/ws?node=${node}`);
    const dropped = vi.fn();
    live.onDrop = dropped;
    live.subscribe("metrics", vi.fn());
    live.subscribe("docker.events", vi.fn());
    sockets[0].open();
    node = "node-b";
    live.reconnect();
    expect(sockets[0].readyState).toBe(3);
    expect(urls).toEqual(["ws://test/ws?node=node-a", "ws://test/ws?node=node-b"]);
    sockets[1].open();
    expect(sockets[1].sent).toEqual([{ type: "subscribe", topics: ["metrics", "docker.events"] }]);
    expect(dropped).not.toHaveBeenCalled();
  });

  it("stays closed after close()", () => {
    vi.useFakeTimers();
    const { live, sockets } = setUp();
    live.subscribe("metrics", vi.fn());
    sockets[0].open();
    live.close();
    vi.advanceTimersByTime(10_000);
    expect(sockets).toHaveLength(1);
    vi.useRealTimers();
  });
});

describe("socketUrl", () => {
  afterEach(() => chooseNode(null));

  it("sends WebSockets to the node chosen, keeping their own query", () => {
    expect(socketUrl("/ws")).toBe(`ws://${window.location.host}/ws`);
    chooseNode("node-b");
    expect(socketUrl("/ws")).toBe(`ws://${window.location.host}/ws?node=node-b`);
    expect(socketUrl("/ws/terminal?provider=host&target=shell")).toBe(
      `ws://${window.location.host}/ws/terminal?provider=host&target=shell&node=node-b`,
    );
  });
});
