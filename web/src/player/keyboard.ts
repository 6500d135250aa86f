// Player keyboard shortcuts, as a pure mapping from a key press to an action so the rules
// (which keys, and when to stay out of the way) are testable without a DOM.

export type KeyAction =
  | { kind: "toggle" }
  | { kind: "seek"; by: number }
  | { kind: "next" }
  | { kind: "previous" }
  | { kind: "mute" };

/** The parts of a keydown the decision needs. */
export interface KeyPress {
  key: string;
  shiftKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  repeat: boolean;
  /** Where focus is: tag name (upper case), input type, role, contenteditable. */
  target: { tag: string; type?: string; role?: string | null; editable?: boolean } | null;
}

/** Seconds ←/→ seek by. */
export const SEEK_STEP_S = 10;

/** Focus in a form control or editable text: the key belongs to it (typing, slider arrows). */
function ownsKeys(t: KeyPress["target"]): boolean {
  if (!t) return false;
  return t.editable === true || ["INPUT", "TEXTAREA", "SELECT"].includes(t.tag) || t.role === "slider" || t.role === "textbox";
}

/** Focus on something Space activates (a button or link): let it. */
function activates(t: KeyPress["target"]): boolean {
  if (!t) return false;
  return ["BUTTON", "A", "SUMMARY"].includes(t.tag) || t.role === "button" || t.role === "link";
}

/**
 * The action for a key press, or null to leave it to the browser: Space play/pause,
 * ←/→ seek ∓10 s (with Shift: previous/next track), M mute. Never with Ctrl/Cmd/Alt (browser
 * shortcuts), never while focus is in a form field, and Space never on a button or link.
 */
export function keyAction(e: KeyPress): KeyAction | null {
  if (e.ctrlKey || e.metaKey || e.altKey || ownsKeys(e.target)) return null;
  switch (e.key) {
    case " ":
    case "Spacebar":
      return e.repeat || activates(e.target) ? null : { kind: "toggle" };
    case "ArrowLeft":
      return e.shiftKey ? { kind: "previous" } : { kind: "seek", by: -SEEK_STEP_S };
    case "ArrowRight":
      return e.shiftKey ? { kind: "next" } : { kind: "seek", by: SEEK_STEP_S };
    case "m":
    case "M":
      return e.repeat ? null : { kind: "mute" };
    default:
      return null;
  }
}

/** Describes a DOM event target for `keyAction`. */
export function describeTarget(el: EventTarget | null): KeyPress["target"] {
  if (!(el instanceof HTMLElement)) return null;
  return {
    tag: el.tagName,
    type: el instanceof HTMLInputElement ? el.type : undefined,
    role: el.getAttribute("role"),
    editable: el.isContentEditable,
  };
}
