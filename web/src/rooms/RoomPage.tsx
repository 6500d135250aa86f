// `/room/{id}`: join (with a password prompt when needed), then the room — share link, audio
// (host: broadcast controls; guest: listening), people, chat and connection status.
import { useId, useState, type FormEvent } from "react";
import { usePageTitle } from "../library/usePageTitle";
import { Chat } from "./Chat";
import { HostPanel } from "./HostPanel";
import { ListenPanel } from "./ListenPanel";
import { NameForm, ParticipantList } from "./ParticipantList";
import { ShareLink } from "./ShareLink";
import type { RoomSession, RoomSnapshot } from "./session";
import { useRoomSession, useRoomSnapshot } from "./useSession";
import "./rooms.css";

function StatusBar({ snap }: { snap: RoomSnapshot }) {
  const conn =
    snap.connection === "connected" ? "Connected" : snap.connection === "connecting" ? "Connecting…" : snap.connection === "reconnecting" ? "Reconnecting…" : "Disconnected";
  const media =
    snap.media === "open" ? "Audio link open" : snap.media === "connecting" ? "Opening audio link…" : snap.media === "retrying" ? "Audio link lost, retrying…" : snap.media === "socket" ? "Audio over the main connection" : null;
  return (
    <ul className="room-status" aria-label="Connection status" data-testid="room-status">
      <li className={`room-pill ${snap.connection === "connected" ? "ok" : "warn"}`}>{conn}</li>
      {snap.room && !snap.room.isHost && media && <li className={`room-pill ${snap.media === "open" || snap.media === "socket" ? "ok" : "warn"}`}>{media}</li>}
      {snap.room && <li className={`room-pill ${snap.room.isLive ? "live" : ""}`}>{snap.room.isLive ? "Live" : "Not live"}</li>}
      {snap.room?.isHost && <li className="room-pill host">You are the host</li>}
    </ul>
  );
}

function PasswordForm({ session, wrong }: { session: RoomSession; wrong: boolean }) {
  const id = useId();
  const [pw, setPw] = useState("");
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (pw) session.join(pw);
  };
  return (
    <form className="rooms-card" onSubmit={submit}>
      <h2>This room has a password</h2>
      <div className="field">
        <label htmlFor={`${id}-pw`}>Password</label>
        <input
          id={`${id}-pw`}
          type="password"
          value={pw}
          autoFocus
          onChange={(e) => setPw(e.target.value)}
          aria-invalid={wrong ? true : undefined}
          aria-describedby={wrong ? `${id}-err` : undefined}
        />
      </div>
      {wrong && (
        <p id={`${id}-err`} className="form-error" role="alert">
          That password is not right. Try again.
        </p>
      )}
      <button className="btn primary" type="submit">
        Join room
      </button>
    </form>
  );
}

function Gone({ message }: { message: string }) {
  return (
    <div className="notice error" role="alert">
      <p>{message}</p>
      <a href="/rooms">See open rooms</a>
    </div>
  );
}

function RoomView({ session }: { session: RoomSession }) {
  const snap = useRoomSnapshot(session);
  const room = snap.room;
  usePageTitle(room?.roomName ?? "Listening room");
  const shareUrl = `${location.origin}/room/${encodeURIComponent(session.roomId)}`;
  const gone = snap.phase === "notfound" || snap.phase === "full" || snap.phase === "refused" || snap.phase === "closed";

  return (
    <section className="page rooms-page room-page" aria-labelledby="room-h">
      <header className="room-head">
        <p className="eyebrow">Listening room</p>
        <h1 id="room-h" tabIndex={-1}>
          {room?.roomName ?? (gone ? "Room unavailable" : "Joining room…")}
        </h1>
        <StatusBar snap={snap} />
        {snap.connectionError && (
          <p className="form-error" role="alert">
            {snap.connectionError}
          </p>
        )}
      </header>

      {snap.notice && (
        <div className="notice error room-notice" role="alert">
          <p>{snap.notice}</p>
          <button className="btn small" type="button" onClick={() => session.dismissNotice()}>
            Dismiss
          </button>
        </div>
      )}

      {gone && <Gone message={snap.phaseMessage ?? "This room is not available."} />}
      {snap.phase === "password" && <PasswordForm session={session} wrong={snap.passwordWrong} />}
      {(snap.phase === "connecting" || snap.phase === "joining") && <p className="muted">Joining…</p>}

      {snap.phase === "joined" && room && (
        <div className="room-grid">
          <div className="room-main">
            <ShareLink url={shareUrl} />
            {room.isHost ? <HostPanel session={session} snap={snap} /> : <ListenPanel session={session} snap={snap} />}
          </div>
          <div className="room-side">
            <ParticipantList participants={snap.participants} meId={snap.me?.userId ?? null} />
            {snap.me && <NameForm name={snap.me.username} error={snap.renameError} onRename={(n) => session.rename(n)} />}
            <Chat
              messages={snap.chat}
              error={snap.chatError}
              refused={snap.chatRefused}
              disabled={snap.connection !== "connected"}
              onSend={(t) => session.sendChat(t)}
            />
          </div>
        </div>
      )}
      {snap.phase === "closed" && snap.chat.length > 0 && (
        <Chat messages={snap.chat} error={null} refused={null} disabled onSend={() => false} />
      )}
    </section>
  );
}

export function RoomPage({ roomId }: { roomId: string }) {
  const session = useRoomSession(roomId);
  if (!session) {
    return (
      <section className="page rooms-page" aria-busy="true" aria-labelledby="room-h">
        <h1 id="room-h" tabIndex={-1}>
          Joining room…
        </h1>
      </section>
    );
  }
  return <RoomView key={roomId} session={session} />;
}
