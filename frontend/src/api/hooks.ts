/** React bindings for the live topics. */
import { useEffect, useRef, useState } from "react";
import { liveSocket } from "./live";

/** Call `handler` for each message on `topic` while the component is mounted (null: none). */
export function useTopic(topic: string | null, handler: (data: unknown) => void): string | null {
  const latest = useRef(handler);
  latest.current = handler;
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setError(null);
    if (!topic) return;
    return liveSocket().subscribe(
      topic,
      (data) => latest.current(data),
      (message) => setError(message),
    );
  }, [topic]);
  return error;
}
