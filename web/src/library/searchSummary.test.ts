import { describe, expect, it } from "vitest";
import { searchSummary } from "./searchSummary";

describe("searchSummary", () => {
  it("names only what was found, with agreement", () => {
    expect(searchSummary("cafe", { tracks: 1, albums: 0, artists: 0 })).toBe("1 track matches “cafe”");
    expect(searchSummary("a", { tracks: 3, albums: 0, artists: 0 })).toBe("3 tracks match “a”");
    expect(searchSummary("a", { tracks: 3, albums: 1, artists: 0 })).toBe("1 album and 3 tracks match “a”");
    expect(searchSummary("a", { tracks: 3, albums: 2, artists: 1 })).toBe("1 artist, 2 albums and 3 tracks match “a”");
    expect(searchSummary("zz", { tracks: 0, albums: 0, artists: 0 })).toBe("Nothing matches “zz”");
  });
});
