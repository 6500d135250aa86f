import { describe, expect, it } from "vitest";
import { buttonKey, menuKey, menuPosition } from "./menu";

const labels = ["Play next", "Add to queue", "Add to playlist"];

describe("menu keys", () => {
  it("opens from the button on the first item (↓) or the last (↑)", () => {
    expect(buttonKey("ArrowDown")).toBe("first");
    expect(buttonKey("ArrowUp")).toBe("last");
    expect(buttonKey("Enter")).toBeNull();
    expect(buttonKey("a")).toBeNull();
  });

  it("moves with the arrows, wrapping at both ends, and jumps with Home/End", () => {
    expect(menuKey("ArrowDown", 0, labels)).toEqual({ kind: "focus", index: 1 });
    expect(menuKey("ArrowDown", 2, labels)).toEqual({ kind: "focus", index: 0 });
    expect(menuKey("ArrowUp", 1, labels)).toEqual({ kind: "focus", index: 0 });
    expect(menuKey("ArrowUp", 0, labels)).toEqual({ kind: "focus", index: 2 });
    expect(menuKey("Home", 2, labels)).toEqual({ kind: "focus", index: 0 });
    expect(menuKey("End", 0, labels)).toEqual({ kind: "focus", index: 2 });
  });

  it("closes on Escape (focus back) and Tab (focus moves on)", () => {
    expect(menuKey("Escape", 1, labels)).toEqual({ kind: "close", tab: false });
    expect(menuKey("Tab", 1, labels)).toEqual({ kind: "close", tab: true });
    expect(menuKey("Escape", 0, [])).toEqual({ kind: "close", tab: false });
  });

  it("goes to the next item starting with a typed letter, after the current one", () => {
    expect(menuKey("a", 0, labels)).toEqual({ kind: "focus", index: 1 });
    expect(menuKey("A", 1, labels)).toEqual({ kind: "focus", index: 2 });
    expect(menuKey("a", 2, labels)).toEqual({ kind: "focus", index: 1 });
    expect(menuKey("p", 1, labels)).toEqual({ kind: "focus", index: 0 });
    // A letter nothing starts with is swallowed (it must not reach the player's M shortcut).
    expect(menuKey("m", 0, labels)).toEqual({ kind: "ignore" });
  });

  it("swallows ←/→ and leaves Enter, Space and modifiers to the browser", () => {
    expect(menuKey("ArrowRight", 0, labels)).toEqual({ kind: "ignore" });
    expect(menuKey("ArrowLeft", 0, labels)).toEqual({ kind: "ignore" });
    expect(menuKey("Enter", 0, labels)).toBeNull();
    expect(menuKey(" ", 0, labels)).toBeNull();
    expect(menuKey("Shift", 0, labels)).toBeNull();
  });
});

describe("menuPosition", () => {
  const viewport = { width: 1000, height: 800 };
  const size = { width: 180, height: 100 };
  const button = (top: number, right: number) => ({ top, bottom: top + 30, left: right - 30, right });

  it("opens below the button with right edges aligned", () => {
    expect(menuPosition(button(100, 900), size, viewport)).toEqual({ top: 134, left: 720 });
  });

  it("opens above when there is no room below", () => {
    // Bottom at 770: 800-770-4-8 = 18 px below, 740-4-8 above: the menu ends 4 px over the button.
    expect(menuPosition(button(740, 900), size, viewport)).toEqual({ top: 636, left: 720 });
  });

  it("stays below when neither side fits but below has more room", () => {
    const tall = { width: 180, height: 700 };
    expect(menuPosition(button(300, 900), tall, viewport).top).toBe(334);
  });

  it("keeps a margin from the left and right edges", () => {
    expect(menuPosition(button(100, 40), size, viewport).left).toBe(8);
    expect(menuPosition(button(100, 1200), size, viewport).left).toBe(1000 - 180 - 8);
  });
});
