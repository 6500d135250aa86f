// Path routing on the History API: `navigate` pushes (or replaces) an entry and tells
// subscribers; the back/forward buttons arrive as `popstate`. Plain same-origin <a href>
// clicks anywhere in the app (including other features' markup) are turned into navigations
// by `interceptLinks`, so nobody needs a special Link component to avoid a full reload.

export interface NavigateOptions {
  /** Replace the current entry instead of adding one (redirects, typing in search). */
  replace?: boolean;
  /** Leave keyboard focus where it is (typing in the search box must not lose the caret). */
  keepFocus?: boolean;
}

const listeners = new Set<() => void>();
let lastOptions: NavigateOptions = { keepFocus: true }; // the first render is not a navigation

/** Subscribes to location changes; returns the unsubscribe function. */
export function subscribe(fn: () => void): () => void {
  listeners.add(fn);
  const onPop = () => {
    lastOptions = {};
    fn();
  };
  window.addEventListener("popstate", onPop);
  return () => {
    listeners.delete(fn);
    window.removeEventListener("popstate", onPop);
  };
}

/** The options of the navigation that produced the current location. */
export function lastNavigation(): NavigateOptions {
  return lastOptions;
}

/** Goes to `to` (a same-origin path with optional query) without reloading the page. */
export function navigate(to: string, options: NavigateOptions = {}): void {
  const current = location.pathname + location.search + location.hash;
  lastOptions = options;
  if (to === current) return;
  if (options.replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  for (const l of listeners) l();
}

/**
 * Handles clicks on same-origin links with `navigate`. Leaves alone what the browser should
 * do itself: modified clicks (new tab), `target`/`download` links, other origins, `/api/`
 * URLs (files), and in-page `#fragment` links such as the skip link.
 */
export function interceptLinks(root: Document = document): () => void {
  const onClick = (e: MouseEvent) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) {
      return;
    }
    const a = (e.target as Element | null)?.closest?.("a");
    if (!a || !a.href || (a.target && a.target !== "_self") || a.hasAttribute("download")) return;
    const url = new URL(a.href);
    if (url.origin !== location.origin || url.pathname.startsWith("/api/")) return;
    if (url.hash && url.pathname === location.pathname && url.search === location.search) return;
    e.preventDefault();
    navigate(url.pathname + url.search + url.hash);
  };
  root.addEventListener("click", onClick);
  return () => root.removeEventListener("click", onClick);
}
