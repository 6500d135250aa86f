import { describe, expect, it } from "vitest";
import { fold, matchesAll } from "./fold";

describe("fold", () => {
  it("drops case and accents", () => {
    expect(fold("Café Björk")).toBe("cafe bjork");
    expect(fold("ÅNGSTRÖM")).toBe("angstrom");
  });
});

describe("matchesAll", () => {
  it("needs every word, in any order", () => {
    expect(matchesAll("Björk Sine", "bjork")).toBe(true);
    expect(matchesAll("Björk Sine", "sine BJÖRK")).toBe(true);
    expect(matchesAll("Björk Sine", "bjork cafe")).toBe(false);
    expect(matchesAll("anything", "   ")).toBe(false);
  });
});
