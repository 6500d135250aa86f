import { describe, expect, it } from "vitest";
import type { Track } from "../api/types";
import { albumQueue, albumStarter, inAlbumOrder } from "./albumPlay";

const t = (title: string, disc: number | null, no: number | null) =>
  ({ id: title, title, album: "A", disc_no: disc, track_no: no }) as Track;
const titles = (ts: readonly Track[]) => ts.map((x) => x.title);

// Deliberately scrambled: disc 2 before disc 1, track 10 before 2, an untagged disc.
const scrambled = [t("d2t1", 2, 1), t("d1t10", 1, 10), t("d1t2", 1, 2), t("d1t1", 1, 1), t("loose", null, null)];

/** Returns the given numbers in turn. */
const sequence = (...v: number[]) => () => {
  if (!v.length) throw new Error("rng called too often");
  return v.shift()!;
};

/** A promise settled by hand. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe("album order", () => {
  it("sorts by disc, then track number (numerically), untagged first, without touching the input", () => {
    expect(titles(inAlbumOrder(scrambled))).toEqual(["loose", "d1t1", "d1t2", "d1t10", "d2t1"]);
    expect(titles(scrambled)[0]).toBe("d2t1");
  });

  it("plays in album order, or shuffles that order with the given rng", () => {
    expect(titles(albumQueue(scrambled, "play", sequence()))).toEqual(["loose", "d1t1", "d1t2", "d1t10", "d2t1"]);
    // From [loose d1t1 d1t2 d1t10 d2t1]: i=4 j=0, i=3 j=3, i=2 j=1, i=1 j=0.
    const shuffled = albumQueue(scrambled, "shuffle", sequence(0, 0.8, 0.4, 0.1));
    expect(titles(shuffled)).toEqual(["d1t2", "d2t1", "d1t1", "d1t10", "loose"]);
  });
});

describe("albumStarter", () => {
  it("fetches the album and plays its tracks in album order", async () => {
    const played: string[][] = [];
    const asked: string[] = [];
    const start = albumStarter({
      fetchTracks: async (id) => (asked.push(id), scrambled),
      play: (ts) => played.push(titles(ts)),
    });
    expect(await start("alb-1", "play")).toBe("played");
    expect(asked).toEqual(["alb-1"]);
    expect(played).toEqual([["loose", "d1t1", "d1t2", "d1t10", "d2t1"]]);
  });

  it("shuffles with the rng it was given", async () => {
    const played: string[][] = [];
    const start = albumStarter({
      fetchTracks: async () => scrambled,
      play: (ts) => played.push(titles(ts)),
      rng: sequence(0, 0.8, 0.4, 0.1),
    });
    expect(await start("alb-1", "shuffle")).toBe("played");
    expect(played).toEqual([["d1t2", "d2t1", "d1t1", "d1t10", "loose"]]);
  });

  it("lets the latest click win over a slower earlier answer", async () => {
    const slow = deferred<Track[]>();
    const fast = deferred<Track[]>();
    const played: string[][] = [];
    const start = albumStarter({
      fetchTracks: (id) => (id === "slow" ? slow.promise : fast.promise),
      play: (ts) => played.push(titles(ts)),
    });
    const first = start("slow", "play");
    const second = start("fast", "play");
    fast.resolve([t("fast one", 1, 1)]);
    expect(await second).toBe("played");
    slow.resolve([t("slow one", 1, 1)]);
    expect(await first).toBe("stale");
    expect(played).toEqual([["fast one"]]);
  });

  it("reports a failure of the latest request only, and plays nothing for an empty album", async () => {
    const failing = deferred<Track[]>();
    const start = albumStarter({
      fetchTracks: (id) => (id === "bad" ? failing.promise : Promise.resolve([])),
      play: () => {
        throw new Error("nothing should play");
      },
    });
    const superseded = start("bad", "play");
    const empty = start("empty", "shuffle");
    failing.reject(new Error("network"));
    expect(await superseded).toBe("stale");
    expect(await empty).toBe("empty");
    await expect(albumStarter({ fetchTracks: () => Promise.reject(new Error("boom")), play() {} })("x", "play")).rejects.toThrow(
      "boom",
    );
  });
});
