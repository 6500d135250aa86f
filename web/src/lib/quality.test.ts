import { describe, expect, it } from "vitest";
import {
  nearestLevel,
  progressiveQuality,
  qualityFromConnection,
  stepDown,
  formatKbps,
} from "./quality";

describe("qualityFromConnection", () => {
  it("is high when the browser does not say", () => {
    expect(qualityFromConnection(undefined)).toBe("high");
    expect(qualityFromConnection(null)).toBe("high");
    expect(qualityFromConnection({})).toBe("high");
  });
  it("maps effective connection types", () => {
    expect(qualityFromConnection({ effectiveType: "slow-2g" })).toBe("low");
    expect(qualityFromConnection({ effectiveType: "2g" })).toBe("low");
    expect(qualityFromConnection({ effectiveType: "3g" })).toBe("medium");
    expect(qualityFromConnection({ effectiveType: "4g" })).toBe("high");
    expect(qualityFromConnection({ effectiveType: "something-new" })).toBe("high");
  });
  it("honours Data Saver whatever the connection", () => {
    expect(qualityFromConnection({ effectiveType: "4g", saveData: true })).toBe("low");
    expect(qualityFromConnection({ effectiveType: "3g", saveData: true })).toBe("low");
    expect(qualityFromConnection({ effectiveType: "4g", saveData: false })).toBe("high");
  });
});

describe("progressiveQuality", () => {
  it("follows the connection on auto", () => {
    expect(progressiveQuality("auto", { effectiveType: "3g" })).toBe("medium");
    expect(progressiveQuality("auto", undefined)).toBe("high");
  });
  it("uses a pinned setting whatever the connection", () => {
    expect(progressiveQuality("low", { effectiveType: "4g" })).toBe("low");
    expect(progressiveQuality("high", { effectiveType: "2g", saveData: true })).toBe("high");
    expect(progressiveQuality("medium", undefined)).toBe("medium");
  });
});

describe("stepDown", () => {
  it("goes one tier lower and stops at low", () => {
    expect(stepDown("high")).toBe("medium");
    expect(stepDown("medium")).toBe("low");
    expect(stepDown("low")).toBeNull();
  });
});

describe("nearestLevel", () => {
  // BANDWIDTH as the server writes it: the real output's peak, a little above nominal.
  const ladder = [141_000, 270_000, 335_000];
  it("pins the level nearest each target", () => {
    expect(nearestLevel(ladder, 128)).toBe(0);
    expect(nearestLevel(ladder, 256)).toBe(1);
    expect(nearestLevel(ladder, 320)).toBe(2);
  });
  it("works whatever the order of the levels", () => {
    expect(nearestLevel([335_000, 141_000, 270_000], 128)).toBe(1);
    expect(nearestLevel([335_000, 141_000, 270_000], 320)).toBe(0);
  });
  it("prefers the lower bitrate on a tie", () => {
    expect(nearestLevel([300_000, 100_000], 200)).toBe(1);
  });
  it("is -1 without levels and clamps outside the ladder", () => {
    expect(nearestLevel([], 128)).toBe(-1);
    expect(nearestLevel(ladder, 32)).toBe(0);
    expect(nearestLevel(ladder, 1000)).toBe(2);
  });
});

it("formats bitrates", () => {
  expect(formatKbps(270_400)).toBe("270 kbps");
});
