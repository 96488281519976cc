import { describe, expect, it } from "vitest";
import { HostSeries, hostValues, seriesColumns } from "./metrics";
import type { HostMetrics } from "./types";

function host(cpu: number): HostMetrics {
  return {
    uptime_seconds: 100,
    process_count: 10,
    cpu: { percent: cpu, per_core: [cpu], count: 1 },
    load: { min1: 0.5, min5: 0.4, min15: 0.3 },
    memory: { total: 1000, used: 250, available: 750, percent: 25 },
    swap: { total: 0, used: 0, percent: 0 },
    disks: [
      { device: "/dev/sdb", mountpoint: "/data", total: 10, used: 9, percent: 90 },
      { device: "/dev/sda", mountpoint: "/", total: 10, used: 5, percent: 50 },
    ],
    disk_io: [],
    network: [
      { name: "lo", rx_bytes_per_sec: 1e6, tx_bytes_per_sec: 1e6 },
      { name: "eth0", rx_bytes_per_sec: 100, tx_bytes_per_sec: 10 },
      { name: "eth1", rx_bytes_per_sec: 50, tx_bytes_per_sec: 5 },
    ],
  };
}

describe("hostValues", () => {
  it("charts the root disk and sums the interfaces but loopback", () => {
    expect(hostValues(host(12))).toMatchObject({ cpu: 12, memory: 25, disk: 50, rx: 150, tx: 15, load1: 0.5 });
  });
});

describe("HostSeries", () => {
  it("keeps an hour and ignores samples older than the last", () => {
    const series = new HostSeries();
    series.add(1000, host(1));
    series.add(2000, host(2));
    series.add(1500, host(9));
    series.add(5000, host(3));
    expect(series.ts).toEqual([2000, 5000]);
    expect(series.chart(["cpu"])).toEqual([
      [2000, 5000],
      [2, 3],
    ]);
  });

  it("puts history that arrives after live samples in front", () => {
    const series = new HostSeries();
    series.add(300, host(3));
    series.prepend([
      { ts: 100, data: host(1) },
      { ts: 200, data: host(2) },
      { ts: 300, data: host(99) },
    ]);
    expect(series.chart(["cpu"])).toEqual([
      [100, 200, 300],
      [1, 2, 3],
    ]);
  });
});

describe("seriesColumns", () => {
  it("puts history older than the first live sample first, one column per figure", () => {
    const figures = (data: unknown) => [(data as { a: number }).a, null];
    const past = [{ ts: 1, data: { a: 10 } }, { ts: 2, data: { a: 20 } }];
    const live = [{ ts: 2, data: { a: 21 } }, { ts: 3, data: { a: 30 } }];
    expect(seriesColumns(past, live, 2, figures)).toEqual([
      [1, 2, 3],
      [10, 21, 30],
      [NaN, NaN, NaN],
    ]);
    expect(seriesColumns([], [], 2, figures)).toEqual([[], [], []]);
  });
});
