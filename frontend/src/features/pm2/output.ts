/** A process's output: the last lines from its log files, then what it prints live. */
import type { OutputLine } from "./api";

/** A message of `pm2.logs:<name>`: one chunk as the app wrote it. */
export interface LiveOutput {
  name: string;
  pm_id: number;
  stream: "out" | "err";
  data: string;
  at: number;
}

/** A chunk's lines (a chunk ending in a newline has no empty last line). */
export function chunkLines(output: LiveOutput): OutputLine[] {
  const parts = output.data.replace(/\r?\n$/, "").split(/\r?\n/);
  return parts.map((text) => ({ name: output.name, pm_id: output.pm_id, stream: output.stream, text, at: output.at }));
}

/** The past lines, then live output written after the files were read (`at`, in ms):
 * output from before then is in the files already. */
export function joinOutput(past: OutputLine[], readAt: number | null, live: LiveOutput[]): OutputLine[] {
  const fresh = readAt === null ? live : live.filter((o) => o.at > readAt);
  return [...past, ...fresh.flatMap(chunkLines)];
}
