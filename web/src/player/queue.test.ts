import { describe, expect, it } from "vitest";
import type { Track } from "../api/types";
import {
  add,
  append,
  currentEntry,
  EMPTY_QUEUE,
  jump,
  next,
  previous,
  remove,
  replace,
  shouldPrefetch,
  upNext,
} from "./queue";

const t = (id: string) => ({ id, title: id }) as Track;
const ids = (q: { items: readonly { track: Track }[] }) => q.items.map((e) => e.track.id);
const abc = replace(EMPTY_QUEUE, [t("a"), t("b"), t("c")], 1);

describe("queue", () => {
  it("replaces and clamps the start", () => {
    expect(ids(abc)).toEqual(["a", "b", "c"]);
    expect(currentEntry(abc)?.track.id).toBe("b");
    expect(replace(EMPTY_QUEUE, [t("a")], 9).index).toBe(0);
    expect(replace(EMPTY_QUEUE, [t("a")], -2).index).toBe(0);
    expect(replace(abc, [], 0)).toMatchObject({ items: [], index: -1 });
  });

  it("gives every entry its own key, even for a repeated track", () => {
    const q = append(abc, [t("a"), t("a")]);
    expect(new Set(q.items.map((e) => e.key)).size).toBe(5);
  });

  it("appends without moving, and starts an empty queue", () => {
    expect(append(abc, [t("d")]).index).toBe(1);
    expect(append(EMPTY_QUEUE, [t("d")]).index).toBe(0);
    expect(append(EMPTY_QUEUE, []).index).toBe(-1);
  });

  it("plays next: inserts right after the current entry, in order, keeping the current one", () => {
    const { queue, start } = add(abc, [t("x"), t("y")], "next");
    expect(ids(queue)).toEqual(["a", "b", "x", "y", "c"]);
    expect(start).toBe(false);
    expect(currentEntry(queue)?.track.id).toBe("b");
    expect(upNext(queue)?.track.id).toBe("x");
    // At the last entry "next" is the end; at the first it is second.
    expect(ids(add(jump(abc, 2), [t("x")], "next").queue)).toEqual(["a", "b", "c", "x"]);
    expect(ids(add(jump(abc, 0), [t("x")], "next").queue)).toEqual(["a", "x", "b", "c"]);
  });

  it("adds to the queue at the end, keeping the current one", () => {
    const { queue, start } = add(abc, [t("x")], "last");
    expect(ids(queue)).toEqual(["a", "b", "c", "x"]);
    expect(start).toBe(false);
    expect(queue.index).toBe(1);
  });

  it("starts the added tracks when nothing is playing", () => {
    for (const placement of ["next", "last"] as const) {
      const empty = add(EMPTY_QUEUE, [t("x"), t("y")], placement);
      expect(empty.start).toBe(true);
      expect(ids(empty.queue)).toEqual(["x", "y"]);
      expect(currentEntry(empty.queue)?.track.id).toBe("x");
      // The last entry played to the end: the first added one plays (the old ones stay behind).
      const done = add(jump(abc, 2), [t("x"), t("y")], placement, true);
      expect(done.start).toBe(true);
      expect(ids(done.queue)).toEqual(["a", "b", "c", "x", "y"]);
      expect(currentEntry(done.queue)?.track.id).toBe("x");
    }
    // "Finished" only counts at the last entry (an earlier one moves on by itself).
    expect(add(abc, [t("x")], "last", true)).toMatchObject({ start: false, queue: { index: 1 } });
  });

  it("adds nothing for no tracks, and keys added entries apart from the old ones", () => {
    expect(add(abc, [], "next")).toEqual({ queue: abc, start: false });
    expect(add(EMPTY_QUEUE, [], "last")).toEqual({ queue: EMPTY_QUEUE, start: false });
    const q = add(abc, [t("a")], "next").queue;
    expect(new Set(q.items.map((e) => e.key)).size).toBe(4);
    expect(q.nextKey).toBe(abc.nextKey + 1);
  });

  it("moves next until the end", () => {
    const q = next(abc);
    expect(q && currentEntry(q)?.track.id).toBe("c");
    expect(q && next(q)).toBeNull();
    expect(next(EMPTY_QUEUE)).toBeNull();
    expect(upNext(abc)?.track.id).toBe("c");
    expect(q && upNext(q)).toBeNull();
  });

  it("goes back near the start of a track and restarts it later on", () => {
    expect(previous(abc, 1)).toMatchObject({ restart: false, queue: { index: 0 } });
    expect(previous(abc, 10)).toMatchObject({ restart: true, queue: { index: 1 } });
    expect(previous(jump(abc, 0), 0)).toMatchObject({ restart: true, queue: { index: 0 } });
  });

  it("jumps only within the queue", () => {
    expect(jump(abc, 2).index).toBe(2);
    expect(jump(abc, 3)).toBe(abc);
    expect(jump(abc, -1)).toBe(abc);
  });

  it("removes before, after and at the current entry", () => {
    expect(remove(abc, 0)).toMatchObject({ currentChanged: false, queue: { index: 0 } });
    expect(currentEntry(remove(abc, 0).queue)?.track.id).toBe("b");
    expect(remove(abc, 2)).toMatchObject({ currentChanged: false, queue: { index: 1 } });
    const atCurrent = remove(abc, 1);
    expect(atCurrent.currentChanged).toBe(true);
    expect(currentEntry(atCurrent.queue)?.track.id).toBe("c");
    const last = remove(jump(abc, 2), 2);
    expect(currentEntry(last.queue)?.track.id).toBe("b");
    const only = remove(replace(EMPTY_QUEUE, [t("a")], 0), 0);
    expect(only).toMatchObject({ currentChanged: true, queue: { index: -1, items: [] } });
    expect(remove(abc, 5)).toEqual({ queue: abc, currentChanged: false });
  });
});

describe("shouldPrefetch", () => {
  it("fires from half-way, once", () => {
    expect(shouldPrefetch(9.9, 20, 20, false)).toBe(false);
    expect(shouldPrefetch(10, 20, 20, false)).toBe(true);
    expect(shouldPrefetch(15, 20, 20, true)).toBe(false);
  });
  it("falls back to the catalog duration while the element does not know it", () => {
    expect(shouldPrefetch(10, NaN, 20, false)).toBe(true);
    expect(shouldPrefetch(10, Infinity, 30, false)).toBe(false);
    expect(shouldPrefetch(10, 0, 0, false)).toBe(false);
  });
});
