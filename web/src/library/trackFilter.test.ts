import { describe, expect, it } from "vitest";
import { KEYS } from "./musicKeys";
import { filterCaption, filterQuery, isFiltering, NO_FILTER } from "./trackFilter";

describe("KEYS", () => {
  it("names the 24 keys as the server spells them", () => {
    expect(KEYS.major).toHaveLength(12);
    expect(KEYS.minor).toHaveLength(12);
    expect(KEYS.major).toContain("F# major");
    expect(KEYS.minor[9]).toBe("A minor");
    expect(KEYS.major[0]).toBe("C major");
  });
});

describe("filterQuery", () => {
  it("asks for nothing when nothing is set", () => {
    expect(filterQuery(NO_FILTER)).toEqual({ query: {}, error: null });
    expect(isFiltering(NO_FILTER)).toBe(false);
  });
  it("turns the boxes and the key into the route's parameters", () => {
    expect(filterQuery({ bpmMin: " 120 ", bpmMax: "130.5", key: "A minor" })).toEqual({
      query: { bpm_min: 120, bpm_max: 130.5, key: "A minor" },
      error: null,
    });
    expect(filterQuery({ bpmMin: "", bpmMax: "90", key: "" }).query).toEqual({ bpm_max: 90 });
    expect(filterQuery({ bpmMin: "99,5", bpmMax: "", key: "" }).query).toEqual({ bpm_min: 99.5 });
    expect(isFiltering({ ...NO_FILTER, key: "C major" })).toBe(true);
  });
  it("explains a box that is not a tempo or an upside-down range, and keeps the key", () => {
    expect(filterQuery({ bpmMin: "fast", bpmMax: "", key: "C major" })).toEqual({
      query: { key: "C major" },
      error: "BPM must be a number of 0 or more.",
    });
    expect(filterQuery({ bpmMin: "-5", bpmMax: "", key: "" }).error).toMatch(/number/);
    expect(filterQuery({ bpmMin: "140", bpmMax: "120", key: "" })).toEqual({
      query: {},
      error: "The lowest BPM is above the highest.",
    });
    expect(filterQuery({ bpmMin: "120", bpmMax: "120", key: "" }).query).toEqual({ bpm_min: 120, bpm_max: 120 });
  });
});

describe("filterCaption", () => {
  it("names what the table lists", () => {
    expect(filterCaption({})).toBe("All tracks");
    expect(filterCaption({ key: "A minor", bpm_min: 120, bpm_max: 130 })).toBe("Tracks in A minor, 120–130 BPM");
    expect(filterCaption({ bpm_min: 120 })).toBe("Tracks at least 120 BPM");
    expect(filterCaption({ bpm_max: 90 })).toBe("Tracks at most 90 BPM");
  });
});
