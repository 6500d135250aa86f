// The room chat: history on join, live messages, a 500-character composer. Messages are shown
// as text, never as HTML (the server keeps them raw).
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import type { ChatEntry } from "./session";
import { timeOfDay } from "./format";

export const CHAT_MAX = 500;

export interface ChatProps {
  messages: ChatEntry[];
  error: string | null;
  /** A message the server refused, to put back in the composer. */
  refused: string | null;
  disabled: boolean;
  onSend(text: string): boolean;
}

export function Chat({ messages, error, refused, disabled, onSend }: ChatProps) {
  const id = useId();
  const [draft, setDraft] = useState("");
  const log = useRef<HTMLOListElement>(null);

  // Keep the newest message in view, unless the reader scrolled up to read older ones.
  useEffect(() => {
    const el = log.current;
    if (!el) return;
    if (el.scrollHeight - el.scrollTop - el.clientHeight < 120) el.scrollTop = el.scrollHeight;
  }, [messages]);

  useEffect(() => {
    if (refused) setDraft((d) => d || refused);
  }, [refused]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (onSend(draft)) setDraft("");
  };

  const left = CHAT_MAX - draft.length;
  return (
    <section className="room-card room-chat" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Chat</h2>
      <ol className="room-chat-log" ref={log} role="log" aria-live="polite" aria-label="Chat history" tabIndex={0} data-testid="chat-log">
        {messages.length === 0 && <li className="muted small">No messages yet.</li>}
        {messages.map((m) => (
          <li key={m.key} className="room-chat-msg">
            <span className="room-chat-meta">
              <span className="room-chat-who">{m.username}</span>
              {m.isHost && <span className="room-pill host">Host</span>}
              <time className="muted small" dateTime={new Date(m.timestamp).toISOString()}>
                {timeOfDay(m.timestamp)}
              </time>
            </span>
            <span className="room-chat-text">{m.message}</span>
          </li>
        ))}
      </ol>
      <form onSubmit={submit} className="room-chat-form">
        <label htmlFor={`${id}-msg`} className="visually-hidden">
          Message
        </label>
        <textarea
          id={`${id}-msg`}
          value={draft}
          rows={2}
          maxLength={CHAT_MAX}
          placeholder="Say something…"
          disabled={disabled}
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
              e.preventDefault();
              e.currentTarget.form?.requestSubmit();
            }
          }}
          aria-describedby={`${id}-count${error ? ` ${id}-err` : ""}`}
        />
        <div className="room-chat-actions">
          <span id={`${id}-count`} className={`small ${left < 50 ? "room-warn" : "muted"}`}>
            {draft.length}/{CHAT_MAX}
          </span>
          <button className="btn primary small" type="submit" disabled={disabled}>
            Send
          </button>
        </div>
        {error && (
          <p id={`${id}-err`} className="form-error" role="alert">
            {error}
          </p>
        )}
      </form>
    </section>
  );
}
