import { describe, expect, it } from "vitest";
import { downBackends } from "./OverviewPage";

describe("what the overview says is down", () => {
  it("names failing collectors and unreachable engines with their reasons", () => {
    const snapshot = {
      errors: { pm2: "ConnectionRefusedError: the PM2 daemon is not running" },
      collectors: {
        containers: {
          engines: [
            { name: "local", up: true, error: null },
            { name: "nas", up: false, error: "connection refused" },
          ],
        },
      },
    };
    expect(downBackends(snapshot)).toEqual([
      "pm2 metrics (ConnectionRefusedError: the PM2 daemon is not running)",
      "Docker engine nas (connection refused)",
    ]);
  });
  it("says nothing when all is well or nothing is known yet", () => {
    expect(downBackends(undefined)).toEqual([]);
    expect(downBackends({ errors: {}, collectors: { containers: null } })).toEqual([]);
  });
});
