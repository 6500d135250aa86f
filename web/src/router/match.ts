// The app's routes as data: a pure matcher from a URL to a Route, and the paths that build
// them, so links and the router agree on one spelling (and can be unit-tested in node).

/** Every screen the app can show, with the parameters its URL carries. */
export type Route =
  | { name: "home" }
  | { name: "tracks" }
  | { name: "track"; id: string }
  | { name: "albums" }
  | { name: "album"; id: string }
  | { name: "artists" }
  | { name: "artist"; id: string }
  | { name: "search"; q: string }
  | { name: "admin" }
  | { name: "rooms" }
  | { name: "room"; id: string }
  | { name: "signin"; next: string }
  | { name: "setup" }
  | { name: "notFound"; path: string };

/** Paths for links: ids are URL-encoded so any server id round-trips through the matcher. */
export const paths = {
  home: () => "/",
  tracks: () => "/tracks",
  track: (id: string) => `/track/${encodeURIComponent(id)}`,
  albums: () => "/albums",
  album: (id: string) => `/albums/${encodeURIComponent(id)}`,
  artists: () => "/artists",
  artist: (id: string) => `/artists/${encodeURIComponent(id)}`,
  search: (q: string) => (q ? `/search?q=${encodeURIComponent(q)}` : "/search"),
  admin: () => "/admin",
  rooms: () => "/rooms",
  room: (id: string) => `/room/${encodeURIComponent(id)}`,
  signin: (next?: string) =>
    next && next !== "/" ? `/signin?next=${encodeURIComponent(next)}` : "/signin",
  setup: () => "/setup",
};

function decode(segment: string): string | null {
  try {
    const s = decodeURIComponent(segment);
    return s === "" ? null : s;
  } catch {
    return null; // malformed %-escape: not a route
  }
}

/**
 * Only same-app paths may be a post-sign-in destination: "/x" but never "//host" or
 * "/\host" (browsers read both as another origin), so a crafted link cannot send a user
 * off-site after they sign in.
 */
export function safeNext(next: string | null | undefined): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/";
  if (next.startsWith("/signin") || next.startsWith("/setup")) return "/";
  return next;
}

/** Maps a pathname and query string (`location.search`) to a Route. */
export function matchRoute(pathname: string, search = ""): Route {
  const params = new URLSearchParams(search);
  const trimmed = pathname.length > 1 ? pathname.replace(/\/+$/, "") : pathname;
  const parts = trimmed.split("/").slice(1);
  const [first = "", second, ...rest] = parts;
  const notFound: Route = { name: "notFound", path: pathname };
  if (rest.length > 0) return notFound;
  if (second === undefined) {
    switch (first) {
      case "":
        return { name: "home" };
      case "tracks":
        return { name: "tracks" };
      case "albums":
        return { name: "albums" };
      case "artists":
        return { name: "artists" };
      case "search":
        return { name: "search", q: params.get("q") ?? "" };
      case "admin":
        return { name: "admin" };
      case "rooms":
        return { name: "rooms" };
      case "signin":
        return { name: "signin", next: safeNext(params.get("next")) };
      case "setup":
        return { name: "setup" };
      default:
        return notFound;
    }
  }
  const id = decode(second);
  if (id === null) return notFound;
  switch (first) {
    case "track":
      return { name: "track", id };
    case "albums":
      return { name: "album", id };
    case "artists":
      return { name: "artist", id };
    case "room":
      return { name: "room", id };
    default:
      return notFound;
  }
}

/** Rooms need no account (nor do the sign-in screens); everything else needs a session. */
export function requiresAuth(route: Route): boolean {
  return !["rooms", "room", "signin", "setup"].includes(route.name);
}
