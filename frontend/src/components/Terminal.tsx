/**
 * An interactive terminal over `/ws/terminal` on xterm.js (loaded only where a terminal opens).
 * Output arrives as binary frames, keys leave as binary frames, resizes as JSON control messages.
 */
import { FitAddon } from "@xterm/addon-fit";
import { Terminal as XTerm } from "@xterm/xterm";
import "@xterm/xterm/css/xterm.css";
import { useEffect, useRef, useState } from "react";
import { socketUrl } from "@/api/live";
import { Button } from "./ui";

type Status = "connecting" | "open" | "closed";

export function terminalUrl(provider: string, target: string, cols: number, rows: number): string {
  const query = new URLSearchParams({ provider, target, cols: String(cols), rows: String(rows) });
  return socketUrl(`/ws/terminal?${query}`);
}

export default function Terminal({ provider, target, label }: { provider: string; target: string; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  const term = useRef<XTerm | null>(null);
  const [status, setStatus] = useState<Status>("connecting");
  const [message, setMessage] = useState("");
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const xterm = new XTerm({ cursorBlink: true, fontSize: 13, fontFamily: "ui-monospace, Menlo, Consolas, monospace", convertEol: false });
    const fit = new FitAddon();
    xterm.loadAddon(fit);
    xterm.open(box.current!);
    fit.fit();
    term.current = xterm;
    const socket = new WebSocket(terminalUrl(provider, target, xterm.cols, xterm.rows));
    socket.binaryType = "arraybuffer";
    const encoder = new TextEncoder();
    setStatus("connecting");
    setMessage("");
    socket.onopen = () => {
      setStatus("open");
      xterm.focus();
    };
    socket.onmessage = (event) => {
      if (event.data instanceof ArrayBuffer) {
        xterm.write(new Uint8Array(event.data));
        return;
      }
      const control = JSON.parse(String(event.data)) as { type: string; code?: number | null; message?: string };
      if (control.type === "exit") setMessage(`The session ended (exit ${control.code ?? "unknown"}).`);
      if (control.type === "error") setMessage(control.message ?? "terminal error");
    };
    socket.onclose = (event) => {
      setStatus("closed");
      setMessage((m) => m || (event.reason ? event.reason : "The connection closed."));
    };
    const typed = xterm.onData((data) => socket.readyState === WebSocket.OPEN && socket.send(encoder.encode(data)));
    const resized = xterm.onResize(({ cols, rows }) => socket.readyState === WebSocket.OPEN && socket.send(JSON.stringify({ type: "resize", cols, rows })));
    const observer = new ResizeObserver(() => fit.fit());
    observer.observe(box.current!);
    return () => {
      observer.disconnect();
      typed.dispose();
      resized.dispose();
      socket.close();
      xterm.dispose();
      term.current = null;
    };
  }, [provider, target, attempt]);

  return (
    <div>
      <div className="mb-1 flex items-center gap-2 text-sm">
        <span role="status" className="text-slate-600 dark:text-slate-400">
          {status === "open" ? "Connected" : status === "connecting" ? "Connecting…" : "Disconnected"}
          {message ? ` — ${message}` : ""}
        </span>
        <Button small onClick={() => void navigator.clipboard?.writeText(term.current?.getSelection() ?? "")}>
          Copy selection
        </Button>
        {status === "closed" ? (
          <Button small variant="primary" onClick={() => setAttempt((a) => a + 1)}>
            Reconnect
          </Button>
        ) : null}
      </div>
      <div ref={box} aria-label={label} className="h-[60vh] min-h-64 rounded bg-black p-1" />
    </div>
  );
}
