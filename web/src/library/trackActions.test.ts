import { describe, expect, it } from "vitest";
import type { Track } from "../api/types";
import { trackMenu, type TrackAction, type TrackActionContext } from "./trackActions";

const track = { id: "t1", title: "Dawn Chorus" } as Track;

/** A player that records what it was asked. */
function recorder() {
  const calls: string[] = [];
  const ctx: TrackActionContext = {
    player: {
      playNext: (ts) => calls.push(`next:${ts.map((t) => t.id).join(",")}`),
      enqueue: (ts) => calls.push(`queue:${ts.map((t) => t.id).join(",")}`),
    },
  };
  return { calls, ctx };
}

describe("track menu", () => {
  it("offers Play next, then Add to queue, and nothing that does not work yet", () => {
    const { ctx } = recorder();
    expect(trackMenu(ctx, track).map((a) => a.label)).toEqual(["Play next", "Add to queue"]);
  });

  it("Play next and Add to queue hand the one track to the player", () => {
    const { calls, ctx } = recorder();
    const [next, queue] = trackMenu(ctx, track);
    next.run(ctx, track);
    queue.run(ctx, track);
    expect(calls).toEqual(["next:t1", "queue:t1"]);
  });

  it("hides an entry whose `available` says no for the track", () => {
    const { ctx } = recorder();
    const only: TrackAction[] = [
      { id: "a", label: "Always", run() {} },
      { id: "b", label: "Only t2", available: (_c, t) => t.id === "t2", run() {} },
    ];
    expect(trackMenu(ctx, track, only).map((a) => a.id)).toEqual(["a"]);
    expect(trackMenu(ctx, { ...track, id: "t2" }, only).map((a) => a.id)).toEqual(["a", "b"]);
  });
});
