// A track row's "⋯" menu (the WAI-ARIA menu button pattern) over the entries `trackMenu`
// lists. Click, Enter, Space or ↓ open it on the first entry, ↑ on the last; arrows, Home/End
// and letters move; Escape, Tab, a click outside or choosing an entry close it, and focus goes
// back to the button. The popup is position: fixed (the table's wrapper scrolls sideways and
// would clip it), placed by `menuPosition` and kept by the button while the page scrolls.
import { useEffect, useId, useLayoutEffect, useRef, useState, type KeyboardEvent } from "react";
import type { Track } from "../api/types";
import { buttonKey, menuKey, menuPosition } from "../lib/menu";
import { trackMenu, type TrackActionContext } from "./trackActions";

export function TrackMenu({ track, ctx }: { track: Track; ctx: TrackActionContext }) {
  const entries = trackMenu(ctx, track);
  /** The focused entry while open; null when closed. */
  const [active, setActive] = useState<number | null>(null);
  const [pos, setPos] = useState({ top: 0, left: 0 });
  const button = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLDivElement>(null);
  const id = useId();
  const open = active !== null;

  const close = (focusButton: boolean) => {
    setActive(null);
    if (focusButton) button.current?.focus();
  };

  // Placed before the first paint, and again on any scroll (the page or the table) or resize.
  useLayoutEffect(() => {
    if (!open) return;
    const place = () => {
      const b = button.current?.getBoundingClientRect();
      const m = menu.current;
      if (!b || !m) return;
      const size = { width: m.offsetWidth, height: m.offsetHeight };
      setPos(menuPosition(b, size, { width: window.innerWidth, height: window.innerHeight }));
    };
    place();
    window.addEventListener("scroll", place, true);
    window.addEventListener("resize", place);
    return () => {
      window.removeEventListener("scroll", place, true);
      window.removeEventListener("resize", place);
    };
  }, [open]);

  // A press anywhere but the menu and its button closes it (the button toggles by itself).
  useEffect(() => {
    if (!open) return;
    const onDown = (e: PointerEvent) => {
      const t = e.target as Node | null;
      if (t && (menu.current?.contains(t) || button.current?.contains(t))) return;
      setActive(null);
    };
    document.addEventListener("pointerdown", onDown, true);
    return () => document.removeEventListener("pointerdown", onDown, true);
  }, [open]);

  useEffect(() => {
    if (active === null) return;
    menu.current?.querySelectorAll<HTMLElement>('[role="menuitem"]')[active]?.focus({ preventScroll: true });
  }, [active]);

  if (entries.length === 0) return null;

  const onMenuKey = (e: KeyboardEvent) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const r = menuKey(e.key, active ?? 0, entries.map((a) => a.label));
    if (!r) return;
    if (r.kind === "close") {
      if (!r.tab) e.preventDefault(); // Tab goes on from the button
      e.stopPropagation();
      close(true);
      return;
    }
    e.preventDefault();
    if (r.kind === "focus") setActive(r.index);
  };

  const name = track.title || "untitled";
  return (
    <>
      <button
        ref={button}
        id={`${id}-button`}
        type="button"
        className="row-menu-button"
        aria-label={`More actions for ${name}`}
        title="More actions"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? `${id}-menu` : undefined}
        onClick={() => (open ? close(false) : setActive(0))}
        onKeyDown={(e) => {
          const at = buttonKey(e.key);
          if (!at) return;
          e.preventDefault();
          setActive(at === "first" ? 0 : entries.length - 1);
        }}
      >
        <span aria-hidden="true">⋯</span>
      </button>
      {open && (
        <div
          ref={menu}
          id={`${id}-menu`}
          role="menu"
          aria-labelledby={`${id}-button`}
          className="row-menu"
          style={{ top: pos.top, left: pos.left }}
          onKeyDown={onMenuKey}
        >
          {entries.map((a, i) => (
            <button
              key={a.id}
              type="button"
              role="menuitem"
              tabIndex={-1}
              className="row-menu-item"
              onFocus={() => setActive(i)}
              onPointerEnter={(e) => e.currentTarget.focus({ preventScroll: true })}
              onClick={() => {
                close(true);
                a.run(ctx, track);
              }}
            >
              {a.label}
            </button>
          ))}
        </div>
      )}
    </>
  );
}
