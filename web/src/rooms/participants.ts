// Who is in the room, kept up to date from the server's participant events (docs/rooms.md):
// a full list on join, then small changes as `user:joined`/`user:left`, or batches as
// `participants:update`. The server's `participantCount` is exact even when lists are capped.

export interface Participant {
  userId: string;
  username: string;
  isHost: boolean;
}

export interface Participants {
  list: Participant[];
  /** Everyone in the room (the list may name fewer in a crowd). */
  count: number;
  hostId: string | null;
}

export const NO_PARTICIPANTS: Participants = { list: [], count: 0, hostId: null };

export type ParticipantEvent =
  | { type: "list"; participants: Participant[]; participantCount?: number; hostId?: string | null }
  | { type: "joined"; participant: Participant; participantCount?: number }
  | { type: "left"; userId: string; participantCount?: number }
  | { type: "update"; joined: Participant[]; left: { userId: string }[]; participantCount?: number }
  | { type: "renamed"; userId: string; username: string };

/** Reads a participant from a server payload; null if it has no id. */
export function toParticipant(p: unknown): Participant | null {
  if (!p || typeof p !== "object") return null;
  const o = p as Record<string, unknown>;
  if (typeof o.userId !== "string") return null;
  return {
    userId: o.userId,
    username: typeof o.username === "string" ? o.username : "Guest",
    isHost: o.isHost === true,
  };
}

function upsert(list: Participant[], p: Participant): Participant[] {
  const i = list.findIndex((x) => x.userId === p.userId);
  const next = i < 0 ? [...list, p] : list.map((x, j) => (j === i ? p : x));
  // Host rights belong to one identity: a new host takes the badge from the old one.
  return p.isHost ? next.map((x) => (x.userId === p.userId || !x.isHost ? x : { ...x, isHost: false })) : next;
}

/** Applies one event; returns a new state. */
export function applyParticipants(s: Participants, e: ParticipantEvent): Participants {
  switch (e.type) {
    case "list": {
      const hostId = e.hostId !== undefined ? e.hostId : (e.participants.find((p) => p.isHost)?.userId ?? s.hostId);
      const seen = new Set<string>();
      const list = e.participants.filter((p) => !seen.has(p.userId) && seen.add(p.userId));
      return { list, count: e.participantCount ?? list.length, hostId };
    }
    case "joined": {
      const hostId = e.participant.isHost ? e.participant.userId : s.hostId;
      const list = upsert(s.list, e.participant);
      return { list, count: e.participantCount ?? list.length, hostId };
    }
    case "left": {
      const list = s.list.filter((p) => p.userId !== e.userId);
      return { ...s, list, count: e.participantCount ?? list.length };
    }
    case "update": {
      const gone = new Set(e.left.map((p) => p.userId));
      let next: Participants = { ...s, list: s.list.filter((p) => !gone.has(p.userId)) };
      for (const p of e.joined) next = applyParticipants(next, { type: "joined", participant: p });
      return { ...next, count: e.participantCount ?? next.list.length };
    }
    case "renamed":
      return { ...s, list: s.list.map((p) => (p.userId === e.userId ? { ...p, username: e.username } : p)) };
  }
}

/** The list in display order: the host first, then by name. */
export function sortedParticipants(s: Participants): Participant[] {
  return [...s.list].sort((a, b) => {
    const ah = a.userId === s.hostId || a.isHost;
    const bh = b.userId === s.hostId || b.isHost;
    if (ah !== bh) return ah ? -1 : 1;
    return a.username.localeCompare(b.username);
  });
}
