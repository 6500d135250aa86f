// The top bar: brand, main navigation, instant search and the signed-in user.
import type { Session } from "./api/client";
import { logout } from "./auth/authApi";
import { SearchBox } from "./library/SearchBox";
import { navigate } from "./router/history";
import { paths, type Route } from "./router/match";

interface NavItem {
  href: string;
  label: string;
  /** Routes that count as this section for `aria-current`. */
  active: Route["name"][];
}

const LIBRARY_NAV: NavItem[] = [
  { href: paths.home(), label: "Home", active: ["home"] },
  { href: paths.artists(), label: "Artists", active: ["artists", "artist"] },
  { href: paths.albums(), label: "Albums", active: ["albums", "album"] },
  { href: paths.tracks(), label: "Tracks", active: ["tracks", "track"] },
];
const ROOMS_NAV: NavItem = { href: paths.rooms(), label: "Rooms", active: ["rooms", "room"] };
const ADMIN_NAV: NavItem = { href: paths.admin(), label: "Admin", active: ["admin"] };

/** Where signing in from the header should come back to (the room being visited). */
function returnTo(route: Route): string | undefined {
  if (route.name === "room") return paths.room(route.id);
  if (route.name === "rooms") return paths.rooms();
  return undefined;
}

export function Header({ route, session }: { route: Route; session: Session | null }) {
  const items = session
    ? [...LIBRARY_NAV, ROOMS_NAV, ...(session.user.role === "admin" ? [ADMIN_NAV] : [])]
    : [ROOMS_NAV];

  async function signOut() {
    await logout();
    navigate(paths.signin(), { replace: true });
  }

  return (
    <header className="app-header">
      <a className="brand" href={session ? paths.home() : paths.rooms()}>
        <span aria-hidden="true" className="brand-mark">◉</span> Tonearm
      </a>
      <nav aria-label="Main" className="main-nav">
        <ul>
          {items.map((i) => (
            <li key={i.href}>
              <a href={i.href} aria-current={i.active.includes(route.name) ? "page" : undefined}>
                {i.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      {session && <SearchBox route={route} />}
      <div className="user-box">
        {session ? (
          <>
            <span className="user-name" title={`Signed in as ${session.user.name}`}>
              <span className="visually-hidden">Signed in as </span>
              {session.user.name}
              {session.user.role === "admin" && <span className="badge">admin</span>}
            </span>
            <button type="button" className="btn small" onClick={signOut}>
              Sign out
            </button>
          </>
        ) : (
          route.name !== "signin" && (
            <a className="btn small" href={paths.signin(returnTo(route))}>
              Sign in
            </a>
          )
        )}
      </div>
    </header>
  );
}
