// Who is here (host first, with a badge), and this listener's own name.
import { useEffect, useId, useState, type FormEvent } from "react";
import { sortedParticipants, type Participants } from "./participants";
import { plural } from "./format";

export function ParticipantList({ participants, meId }: { participants: Participants; meId: string | null }) {
  const list = sortedParticipants(participants);
  const more = participants.count - list.length;
  return (
    <section className="room-card" aria-labelledby="room-people-h">
      <h2 id="room-people-h">
        People <span className="muted small">({participants.count})</span>
      </h2>
      <ul className="room-people" data-testid="participants">
        {list.map((p) => {
          const host = p.userId === participants.hostId || p.isHost;
          return (
            <li key={p.userId}>
              <span className="room-person-name">{p.username}</span>
              {host && <span className="room-pill host">Host</span>}
              {p.userId === meId && <span className="muted small"> (you)</span>}
            </li>
          );
        })}
      </ul>
      {more > 0 && <p className="muted small">and {plural(more, "other")}</p>}
    </section>
  );
}

export function NameForm({ name, error, onRename }: { name: string; error: string | null; onRename(n: string): void }) {
  const id = useId();
  const [draft, setDraft] = useState(name);
  const [sent, setSent] = useState(false);
  useEffect(() => {
    setDraft(name);
    setSent(false);
  }, [name]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (draft.trim() && draft.trim() !== name) {
      setSent(true);
      onRename(draft);
    }
  };
  return (
    <form className="room-name-form" onSubmit={submit}>
      <label htmlFor={`${id}-name`}>Your name</label>
      <div className="room-share-row">
        <input
          id={`${id}-name`}
          value={draft}
          maxLength={32}
          onChange={(e) => setDraft(e.target.value)}
          autoComplete="nickname"
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${id}-err` : undefined}
        />
        <button className="btn" type="submit" disabled={sent && !error}>
          Rename
        </button>
      </div>
      {error && (
        <p id={`${id}-err`} className="form-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
