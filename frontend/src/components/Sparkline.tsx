/** A tiny inline SVG line of recent values (for table rows: no canvas, no library). */
export function Sparkline({ values, max, label, colour = "#0ea5e9" }: { values: number[]; max?: number; label: string; colour?: string }) {
  const width = 60;
  const height = 16;
  if (values.length < 2) return <span className="inline-block w-[60px] text-xs text-slate-600 dark:text-slate-400">–</span>;
  const top = max ?? Math.max(...values, 1e-9);
  const step = width / (values.length - 1);
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(height - (Math.min(v, top) / top) * height).toFixed(1)}`).join(" ");
  return (
    <svg width={width} height={height} role="img" aria-label={label} className="inline-block align-middle">
      <polyline points={points} fill="none" stroke={colour} strokeWidth="1.5" />
    </svg>
  );
}
