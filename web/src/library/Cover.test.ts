import { describe, expect, it } from "vitest";
import { hueOf, initials } from "./Cover";

describe("initials", () => {
  it("takes up to two initials", () => {
    expect(initials("First Light")).toBe("FL");
    expect(initials("björk")).toBe("B");
    expect(initials("  the   long   name  ")).toBe("TL");
    expect(initials("")).toBe("");
  });
});

describe("hueOf", () => {
  it("is stable and spreads similar names apart", () => {
    expect(hueOf("First Light")).toBe(hueOf("First Light"));
    const hues = ["First Light", "Pure Waves", "Late Bloom"].map(hueOf);
    for (const h of hues) expect(h).toBeGreaterThanOrEqual(0);
    expect(Math.abs(hues[0] - hues[1])).toBeGreaterThan(20);
  });
});
