// Escape closes a player panel, from anywhere inside it.
import { useEffect, type RefObject } from "react";

export function usePanelKeys(ref: RefObject<HTMLElement | null>, onClose: () => void): void {
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") {
        e.stopPropagation();
        onClose();
      }
    };
    el.addEventListener("keydown", onKey);
    return () => el.removeEventListener("keydown", onKey);
  }, [ref, onClose]);
}
