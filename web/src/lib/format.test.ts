import { describe, expect, it } from "vitest";
import {
  formatAudio,
  formatBpm,
  formatBytes,
  formatDuration,
  formatKey,
  formatLufs,
  formatPercent,
  formatTotal,
  formatWait,
  plural,
} from "./format";

describe("formatDuration", () => {
  it("writes clock times", () => {
    expect(formatDuration(0)).toBe("0:00");
    expect(formatDuration(999)).toBe("0:00");
    expect(formatDuration(20_000)).toBe("0:20");
    expect(formatDuration(187_400)).toBe("3:07");
    expect(formatDuration(3_725_000)).toBe("1:02:05");
    expect(formatDuration(36_000_000)).toBe("10:00:00");
  });
  it("marks unknown lengths", () => {
    expect(formatDuration(null)).toBe("–:––");
    expect(formatDuration(-5)).toBe("–:––");
    expect(formatDuration(Number.NaN)).toBe("–:––");
  });
});

describe("formatTotal", () => {
  it("writes running times", () => {
    expect(formatTotal(20_000)).toBe("under a minute");
    expect(formatTotal(42 * 60_000)).toBe("42 min");
    expect(formatTotal(65 * 60_000)).toBe("1 h 5 min");
    expect(formatTotal(120 * 60_000)).toBe("2 h");
  });
});

describe("plural", () => {
  it("agrees with the count", () => {
    expect(plural(1, "track")).toBe("1 track");
    expect(plural(0, "track")).toBe("0 tracks");
    expect(plural(12345, "album")).toBe("12,345 albums");
    expect(plural(2, "child", "children")).toBe("2 children");
  });
});

describe("formatBytes", () => {
  it("uses binary units", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536)).toBe("1.5 KB");
    expect(formatBytes(12 * 1024 * 1024)).toBe("12 MB");
    expect(formatBytes(500 * 1024 * 1024)).toBe("500 MB");
  });
});

describe("formatWait", () => {
  it("writes waits in words", () => {
    expect(formatWait(0.2)).toBe("1 second");
    expect(formatWait(45)).toBe("45 seconds");
    expect(formatWait(60)).toBe("1 minute");
    expect(formatWait(125)).toBe("2 minutes 5 seconds");
    expect(formatWait(3600)).toBe("1 hour");
    expect(formatWait(3720)).toBe("1 hour 2 minutes");
  });
});

describe("formatAudio", () => {
  it("labels lossless and lossy files", () => {
    expect(formatAudio({ codec: "flac", sample_rate: 44100, bit_depth: 16, bitrate: 900_000 })).toBe(
      "FLAC · 44.1 kHz · 16-bit",
    );
    expect(formatAudio({ codec: "mp3", sample_rate: 48000, bit_depth: null, bitrate: 320_000 })).toBe(
      "MP3 · 48 kHz · 320 kbps",
    );
  });
});

describe("analysis values", () => {
  it("rounds tempos to whole BPM and leaves unknown ones empty", () => {
    expect(formatBpm(123.4)).toBe("123");
    expect(formatBpm(123.5)).toBe("124");
    expect(formatBpm(59.96)).toBe("60");
    expect(formatBpm(null)).toBe("");
    expect(formatBpm(undefined)).toBe("");
    expect(formatBpm(0)).toBe("");
    expect(formatBpm(Number.NaN)).toBe("");
  });
  it("writes keys as the server spells them, with the Camelot code when given", () => {
    expect(formatKey("A minor")).toBe("A minor");
    expect(formatKey("F# major", "2B")).toBe("F# major (2B)");
    expect(formatKey(" A minor ", " ")).toBe("A minor");
    expect(formatKey(null, "8A")).toBe("");
    expect(formatKey("")).toBe("");
  });
  it("writes scores as clamped percentages", () => {
    expect(formatPercent(0.734)).toBe("73%");
    expect(formatPercent(0)).toBe("0%");
    expect(formatPercent(1.2)).toBe("100%");
    expect(formatPercent(-0.1)).toBe("0%");
    expect(formatPercent(null)).toBe("");
  });
  it("writes loudness to a tenth of a LU", () => {
    expect(formatLufs(-14.23)).toBe("-14.2 LUFS");
    expect(formatLufs(-0.01)).toBe("0.0 LUFS");
    expect(formatLufs(null)).toBe("");
    expect(formatLufs(Number.NEGATIVE_INFINITY)).toBe("");
  });
});
