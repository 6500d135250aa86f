import { describe, expect, it } from "vitest";
import type { Track } from "../api/types";
import {
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
