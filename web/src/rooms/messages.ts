// Human messages for the room server's error codes (docs/rooms.md, "Errors").

export function errorMessage(code: string, fallback: string): string {
  switch (code) {
    case "bad_request":
      return `The server did not understand a request (${fallback}).`;
    case "bad_password":
      return "That password is not right.";
    case "bad_host_token":
      return "The saved host key does not open this room any more; you joined as a guest.";
    case "bad_name":
      return "A name needs 1 to 32 printable characters.";
    case "bad_quality":
      return "The server refused that audio quality.";
    case "room_refused":
      return `The room could not be created: ${fallback}`;
    case "chat_empty":
      return "Type a message first.";
    case "chat_too_long":
      return "Messages can be at most 500 characters.";
    case "chat_rate_limited":
      return "You are sending messages too quickly. Wait a few seconds and try again.";
    case "server_full":
      return "The server has too many listeners right now. Try again later.";
    case "internal":
      return "The server could not start a session. Reload the page to try again.";
    default:
      return fallback || "Something went wrong.";
  }
}

/** Why a room closed, for the people in it. */
export function closedMessage(reason: string): string {
  if (reason === "closed by host") return "The host closed this room.";
  if (reason === "idle") return "This room closed because its host was away for too long.";
  return reason ? `This room closed (${reason}).` : "This room closed.";
}

/** A room id from a pasted share link, `/room/{id}` path or bare id; null if none. */
export function roomIdFrom(input: string): string | null {
  const s = input.trim();
  if (!s) return null;
  const m = /\/room\/([^/?#\s]+)/.exec(s);
  const id = m ? decodeURIComponent(m[1]) : s;
  return /^[A-Za-z0-9_-]{1,64}$/.test(id) ? id : null;
}
