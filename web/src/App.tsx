// The app shell: routes, the sign-in gate, the header, the page and the player bar.
import { useEffect, useRef, type ReactNode, type RefObject } from "react";
import { AdminPage } from "./admin/AdminPage";
import { setupNeeded } from "./auth/authApi";
import { SignIn } from "./auth/SignIn";
import { Setup } from "./auth/Setup";
import { useSession } from "./auth/useSession";
import { Header } from "./Header";
import { AlbumPage } from "./library/AlbumPage";
import { AlbumsPage } from "./library/AlbumsPage";
import { ArtistPage } from "./library/ArtistPage";
import { ArtistsPage } from "./library/ArtistsPage";
import { LibraryHome } from "./library/LibraryHome";
import { SearchPage } from "./library/SearchPage";
import { TrackPage } from "./library/TrackPage";
import { TracksPage } from "./library/TracksPage";
import { usePageTitle } from "./library/usePageTitle";
import { PlayerBar, PlayerProvider } from "./player";
import { RoomPage, RoomsList } from "./rooms";
import { interceptLinks, lastNavigation, navigate } from "./router/history";
import { paths, requiresAuth, type Route } from "./router/match";
import { useRoute } from "./router/useRoute";

function NotFound() {
  usePageTitle("Not found");
  return (
    <div className="page">
      <h1 tabIndex={-1}>Page not found</h1>
      <p>
        There is nothing at this address. <a href={paths.home()}>Go to the library</a>.
      </p>
    </div>
  );
}

function page(route: Route): ReactNode {
  switch (route.name) {
    case "home":
      return <LibraryHome />;
    case "tracks":
      return <TracksPage />;
    case "track":
      return <TrackPage key={route.id} id={route.id} />;
    case "albums":
      return <AlbumsPage />;
    case "album":
      return <AlbumPage key={route.id} id={route.id} />;
    case "artists":
      return <ArtistsPage />;
    case "artist":
      return <ArtistPage key={route.id} id={route.id} />;
    case "search":
      return <SearchPage q={route.q} />;
    case "admin":
      return <AdminPage />;
    case "rooms":
      return <RoomsList />;
    case "room":
      return <RoomPage key={route.id} roomId={route.id} />;
    case "signin":
      return <SignIn next={route.next} />;
    case "setup":
      return <Setup />;
    case "notFound":
      return <NotFound />;
  }
}

/**
 * Signed-out visits to library screens go to sign-in (remembering where they were headed), or
 * to first-admin setup while the server has no users; signed-in visits to the sign-in screens
 * go on to the library. Returns whether the current route may render.
 */
function useAuthGate(route: Route, signedIn: boolean): boolean {
  const blocked = requiresAuth(route) && !signedIn;
  const onAuthScreen = route.name === "signin" || route.name === "setup";
  useEffect(() => {
    if (blocked) {
      const here = location.pathname + location.search;
      let cancelled = false;
      setupNeeded().then((needed) => {
        if (!cancelled) navigate(needed ? paths.setup() : paths.signin(here), { replace: true });
      });
      return () => {
        cancelled = true;
      };
    }
    if (route.name === "signin" && !signedIn) {
      // A brand-new server has nobody to sign in as: go to setup instead.
      let cancelled = false;
      setupNeeded().then((needed) => !cancelled && needed && navigate(paths.setup(), { replace: true }));
      return () => {
        cancelled = true;
      };
    }
    if (onAuthScreen && signedIn) navigate(route.name === "signin" ? route.next : paths.home(), { replace: true });
  }, [blocked, onAuthScreen, signedIn, route]);
  return !blocked && !(onAuthScreen && signedIn);
}

/** After a navigation, focus the new page's heading (so screen readers read it) and scroll up. */
function useFocusOnNavigate(route: Route, main: RefObject<HTMLElement | null>) {
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    if (lastNavigation().keepFocus) return;
    window.scrollTo(0, 0);
    const target = main.current?.querySelector<HTMLElement>("h1") ?? main.current;
    target?.focus({ preventScroll: true });
  }, [route, main]);
}

export function App() {
  const route = useRoute();
  const session = useSession();
  const main = useRef<HTMLElement>(null);
  const allowed = useAuthGate(route, session !== null);
  useFocusOnNavigate(route, main);
  useEffect(() => interceptLinks(), []);
  const authScreen = route.name === "signin" || route.name === "setup";

  return (
    <PlayerProvider>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <Header route={route} session={session} />
      <main id="main" ref={main} tabIndex={-1} className={authScreen ? "auth-main" : undefined}>
        {allowed ? page(route) : <p className="muted" role="status">Checking your session…</p>}
      </main>
      {session && (
        <div className="player-slot">
          <PlayerBar />
        </div>
      )}
    </PlayerProvider>
  );
}
