import { expect, it } from "vitest";
import type { Track } from "../api/types";
import { mediaMetadataInit, positionState } from "./mediaSession";

const track = { id: "t1", title: "Dawn", artist: "Aurora", album: "First", has_cover: true } as Track;

it("describes the track, with artwork only when it has a cover", () => {
  const m = mediaMetadataInit(track, "tok");
  expect(m).toMatchObject({ title: "Dawn", artist: "Aurora", album: "First" });
  expect(m.artwork?.map((a) => a.sizes)).toEqual(["128x128", "512x512"]);
  expect(m.artwork?.[0].src).toBe("/api/tracks/t1/cover?size=128&access_token=tok");
  expect(mediaMetadataInit({ ...track, has_cover: false }, "tok").artwork).toEqual([]);
});

it("only gives position states the API accepts", () => {
  expect(positionState(5, 20)).toEqual({ position: 5, duration: 20, playbackRate: 1 });
  expect(positionState(25, 20)).toEqual({ position: 20, duration: 20, playbackRate: 1 });
  expect(positionState(-1, 20)?.position).toBe(0);
  expect(positionState(5, NaN)).toBeNull();
  expect(positionState(5, Infinity)).toBeNull();
  expect(positionState(NaN, 20)).toBeNull();
});
