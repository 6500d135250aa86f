import { describe, expect, it } from "vitest";
import { sortSource } from "./useSortedTracks";

describe("sortSource", () => {
  it("sorts loaded rows here when they are the whole listing", () => {
    expect(sortSource(5, 5)).toBe("client");
    expect(sortSource(0, 0)).toBe("client");
  });
  it("asks the server when more rows exist than are loaded", () => {
    expect(sortSource(100, 101)).toBe("server");
    expect(sortSource(100, 10_000)).toBe("server");
  });
  it("sorts here while the total is unknown (nothing to ask for yet)", () => {
    expect(sortSource(0, null)).toBe("client");
  });
});
