// A menu button's rules (WAI-ARIA "menu button" pattern) as pure functions, so the keys and
// the placement are testable without a DOM: which key opens the menu on which item, how keys
// move within it, and where the popup goes so it stays on screen.

/** What a key on the menu button does: open with focus on the first or the last item. */
export function buttonKey(key: string): "first" | "last" | null {
  switch (key) {
    case "ArrowDown":
      return "first";
    case "ArrowUp":
      return "last";
    default:
      return null; // Enter and Space click the button, which opens on the first item
  }
}

export type MenuKeyResult =
  /** Move focus to item `index`. */
  | { kind: "focus"; index: number }
  /**
   * Close the menu and put focus back on the button. With `tab` (Tab or Shift+Tab) the key is
   * not prevented: the browser's own Tab then moves on from the button.
   */
  | { kind: "close"; tab: boolean }
  /** Swallow the key (it means nothing in a vertical menu, and must not reach the page). */
  | { kind: "ignore" };

/**
 * A key pressed inside an open menu of `labels` with item `index` focused; null leaves it to
 * the browser (Enter and Space activate the focused item). Arrows wrap around; Home/End go to
 * the ends; a letter goes to the next item starting with it.
 */
export function menuKey(key: string, index: number, labels: readonly string[]): MenuKeyResult | null {
  const n = labels.length;
  if (key === "Escape") return { kind: "close", tab: false };
  if (key === "Tab") return { kind: "close", tab: true };
  if (n === 0) return null;
  switch (key) {
    case "ArrowDown":
      return { kind: "focus", index: (index + 1 + n) % n };
    case "ArrowUp":
      return { kind: "focus", index: (index - 1 + n) % n };
    case "Home":
    case "PageUp":
      return { kind: "focus", index: 0 };
    case "End":
    case "PageDown":
      return { kind: "focus", index: n - 1 };
    case "ArrowLeft":
    case "ArrowRight":
      return { kind: "ignore" };
  }
  if ([...key].length === 1 && key.trim() !== "") {
    const k = key.toLocaleLowerCase();
    for (let step = 1; step <= n; step++) {
      const i = (index + step + n) % n;
      if (labels[i].trim().toLocaleLowerCase().startsWith(k)) return { kind: "focus", index: i };
    }
    return { kind: "ignore" };
  }
  return null;
}

export interface Box {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/**
 * Where a fixed-position menu of `size` goes for a button at `anchor` (viewport coordinates):
 * under the button with right edges aligned, above it when there is no room below (and more
 * above), and always at least `margin` inside the viewport sideways.
 */
export function menuPosition(
  anchor: Box,
  size: { width: number; height: number },
  viewport: { width: number; height: number },
  margin = 8,
  gap = 4,
): { top: number; left: number } {
  const below = viewport.height - anchor.bottom - gap - margin;
  const above = anchor.top - gap - margin;
  const top = size.height <= below || below >= above ? anchor.bottom + gap : Math.max(margin, anchor.top - gap - size.height);
  const maxLeft = Math.max(margin, viewport.width - size.width - margin);
  const left = Math.min(Math.max(margin, anchor.right - size.width), maxLeft);
  return { top, left };
}
