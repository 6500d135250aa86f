import { describe, expect, it } from "vitest";
import type { ScanStatus } from "../api/library";
import { scanView } from "./scanProgress";

const base: ScanStatus = {
  running: false,
  started_at_ms: 0,
  finished_at_ms: 0,
  found: 0,
  unchanged: 0,
  probed: 0,
  failed: 0,
  removed: 0,
  files_per_second: 0,
};

describe("scanView", () => {
  it("is indeterminate before files are found", () => {
    expect(scanView({ ...base, running: true })).toEqual({ value: null, label: "Looking for audio files…", summary: "", done: false });
  });
  it("counts read and unchanged files against those found", () => {
    const v = scanView({ ...base, running: true, found: 40, probed: 10, unchanged: 20, failed: 2 });
    expect(v.value).toBe(0.75);
    expect(v.label).toBe("Scanning: 30 of 40 files checked, 2 failed");
    expect(v.done).toBe(false);
  });
  it("never overshoots", () => {
    expect(scanView({ ...base, running: true, found: 1, probed: 2 }).value).toBe(1);
  });
  it("summarises a finished scan", () => {
    const v = scanView({ ...base, started_at_ms: 1000, finished_at_ms: 3500, found: 6, probed: 1, unchanged: 5, removed: 1 });
    expect(v).toEqual({
      value: 1,
      label: "Scan complete: 6 files found, 1 read, 5 unchanged, 1 removed in 2.5 s",
      summary: "6 files found, 1 read, 5 unchanged, 1 removed in 2.5 s",
      done: true,
    });
  });
  it("says when no scan has run", () => {
    expect(scanView(base).label).toMatch(/No scan/);
  });
});
