// The queue: every entry, the current one marked; choose one to play it, or remove it.
import { useEffect, useRef, type ReactElement } from "react";
import { formatDuration } from "../lib/format";
import { Icon } from "./icons";
import type { Player, PlayerSnapshot } from "./player";
import { usePanelKeys } from "./usePanelKeys";

export function QueuePanel({
  player,
  snapshot,
  onClose,
}: {
  player: Player;
  snapshot: PlayerSnapshot;
  onClose: () => void;
}): ReactElement {
  const { items, index } = snapshot.queue;
  const ref = useRef<HTMLElement>(null);
  const currentRef = useRef<HTMLButtonElement>(null);
  /** The row whose remove button was pressed: focus stays there (not lost to the page). */
  const removedAt = useRef<number | null>(null);
  usePanelKeys(ref, onClose);
  // Open on the track playing, and move focus into the panel.
  useEffect(() => {
    currentRef.current?.scrollIntoView({ block: "nearest" });
    (currentRef.current ?? ref.current)?.focus();
  }, []);
  useEffect(() => {
    const i = removedAt.current;
    if (i === null) return;
    removedAt.current = null;
    const buttons = ref.current?.querySelectorAll<HTMLButtonElement>(".tp-remove");
    const target = buttons?.[Math.min(i, buttons.length - 1)] ?? ref.current;
    target?.focus();
  }, [items.length]);
  return (
    <section id="tp-queue" className="tp-panel" aria-labelledby="tp-queue-title" ref={ref} tabIndex={-1}>
      <header className="tp-panel-head">
        <h2 id="tp-queue-title">
          Queue <span className="tp-count">({items.length})</span>
        </h2>
        <button type="button" className="tp-icon" aria-label="Close queue" onClick={onClose}>
          <Icon name="close" />
        </button>
      </header>
      {items.length === 0 ? (
        <p className="tp-empty">The queue is empty.</p>
      ) : (
        <ol className="tp-queue">
          {items.map((entry, i) => {
            const current = i === index;
            const t = entry.track;
            return (
              <li key={entry.key} className={current ? "tp-current" : undefined} aria-current={current ? "true" : undefined}>
                <button
                  type="button"
                  className="tp-queue-item"
                  ref={current ? currentRef : undefined}
                  onClick={() => player.jump(i)}
                >
                  <span className="tp-queue-title">{t.title || "Untitled"}</span>
                  <span className="tp-queue-artist">{t.artist || "Unknown artist"}</span>
                  <span className="tp-queue-time">{formatDuration(t.duration_ms)}</span>
                  {current && <span className="tp-visually-hidden"> (playing)</span>}
                </button>
                <button
                  type="button"
                  className="tp-icon tp-remove"
                  aria-label={`Remove ${t.title || "this track"} from the queue`}
                  onClick={() => {
                    removedAt.current = i;
                    player.remove(i);
                  }}
                >
                  <Icon name="remove" size={20} />
                </button>
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}
