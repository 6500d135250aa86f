import { expect, it } from "vitest";
import { DEFAULT_SETTINGS, parseSettings } from "./settings";

it("reads valid settings", () => {
  expect(parseSettings(JSON.stringify({ volume: 0.4, muted: true, quality: "low", preference: "progressive" }))).toEqual({
    volume: 0.4,
    muted: true,
    quality: "low",
    preference: "progressive",
  });
});

it("falls back to defaults for missing, invalid or corrupt values", () => {
  expect(parseSettings(null)).toEqual(DEFAULT_SETTINGS);
  expect(parseSettings("{not json")).toEqual(DEFAULT_SETTINGS);
  expect(parseSettings("42")).toEqual(DEFAULT_SETTINGS);
  expect(parseSettings(JSON.stringify({ volume: 3, muted: "yes", quality: "ultra", preference: "dash" }))).toEqual(
    DEFAULT_SETTINGS,
  );
  expect(parseSettings(JSON.stringify({ quality: "medium" }))).toEqual({ ...DEFAULT_SETTINGS, quality: "medium" });
});
