/** A live time-series chart on uPlot (small, canvas-drawn, fast with thousands of points). */
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

/** The last value of a column that is a number (null when there is none). */
export function latest(column: ArrayLike<number | null | undefined>): number | null {
  for (let i = column.length - 1; i >= 0; i--) {
    const value = column[i];
    if (typeof value === "number" && Number.isFinite(value)) return value;
  }
  return null;
}

function clock(ts: number | null): string {
  return ts === null ? "–" : new Date(ts * 1000).toLocaleTimeString();
}

export interface SeriesSpec {
  label: string;
  colour: string;
}

export function TimeChart({
  series,
  data,
  format,
  height = 140,
  max,
  label,
}: {
  series: SeriesSpec[];
  /** `[timestamps (unix s), values of series 1, values of series 2, …]` */
  data: number[][];
  format: (value: number) => string;
  height?: number;
  /** Fixed top of the y axis (100 for percentages); otherwise it fits the data. */
  max?: number;
  /** Accessible name of the chart. */
  label: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const formatRef = useRef(format);
  formatRef.current = format;

  useEffect(() => {
    const element = box.current!;
    const opts: uPlot.Options = {
      width: element.clientWidth || 300,
      height,
      legend: { show: true, live: true },
      cursor: { drag: { x: false, y: false } },
      scales: { y: max ? { range: [0, max] } : { range: (_u, _min, top) => [0, top > 0 ? top * 1.1 : 1] } },
      axes: [
        { stroke: "#64748b", grid: { stroke: "#94a3b833" }, ticks: { stroke: "#94a3b833" } },
        {
          stroke: "#64748b",
          size: 64,
          grid: { stroke: "#94a3b833" },
          ticks: { stroke: "#94a3b833" },
          values: (_u, ticks) => ticks.map((t) => formatRef.current(t)),
        },
      ],
      series: [
        { label: "At", value: (u: uPlot, v: number | null) => clock(v ?? latest(u.data[0])) },
        ...series.map((s, i) => ({
          label: s.label,
          stroke: s.colour,
          width: 1.5,
          points: { show: false },
          fill: `${s.colour}22`,
          // Without the cursor on the chart the legend reads the newest value.
          value: (u: uPlot, v: number | null) => {
            const shown = v ?? latest(u.data[i + 1]);
            return shown === null ? "–" : formatRef.current(shown);
          },
        })),
      ],
    };
    const chart = new uPlot(opts, data as uPlot.AlignedData, element);
    plot.current = chart;
    const resize = new ResizeObserver(() => chart.setSize({ width: element.clientWidth, height }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = null;
    };
    // The chart is built once per series shape; data updates go through setData below.
  }, [series.map((s) => s.label).join("|"), height, max]);

  useEffect(() => {
    plot.current?.setData(data as uPlot.AlignedData);
  }, [data]);

  return <div ref={box} role="img" aria-label={label} className="w-full" />;
}
