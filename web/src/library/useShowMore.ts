import { useState } from "react";

/**
 * Renders a long, fully loaded list (albums, artists: the server sends them whole) a chunk at
 * a time, so a library of thousands of albums does not make thousands of covers at once.
 */
export function useShowMore<T>(items: readonly T[], chunk: number) {
  const [shown, setShown] = useState(chunk);
  return {
    visible: items.slice(0, shown),
    hidden: Math.max(0, items.length - shown),
    more: () => setShown((n) => n + chunk),
  };
}
