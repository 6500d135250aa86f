import { useEffect, useState, type FormEvent } from "react";
import { navigate } from "../router/history";
import { paths, type Route } from "../router/match";

/**
 * The header's search box. Each keystroke rewrites `/search?q=` (the first one pushes a history
 * entry, the rest replace it) and keeps focus here, so results update as you type.
 */
export function SearchBox({ route }: { route: Route }) {
  const onSearch = route.name === "search";
  const routeQ = onSearch ? route.q : "";
  const [value, setValue] = useState(routeQ);
  useEffect(() => setValue(routeQ), [routeQ]);

  function change(v: string) {
    setValue(v);
    navigate(paths.search(v), { replace: onSearch, keepFocus: true });
  }
  function submit(e: FormEvent) {
    e.preventDefault();
    navigate(paths.search(value), { replace: onSearch, keepFocus: true });
  }

  return (
    <form role="search" className="search-box" onSubmit={submit}>
      <label htmlFor="search-input" className="visually-hidden">
        Search tracks, albums and artists
      </label>
      <input
        id="search-input"
        type="search"
        placeholder="Search music"
        autoComplete="off"
        spellCheck={false}
        value={value}
        onChange={(e) => change(e.target.value)}
      />
    </form>
  );
}
