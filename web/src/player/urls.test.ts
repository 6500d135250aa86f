import { expect, it } from "vitest";
import { coverUrl, masterUrl, nativeMasterUrl, streamUrl } from "./urls";

it("builds media URLs with the token in the query", () => {
  expect(streamUrl("t1", "low", "a.b+c")).toBe("/api/tracks/t1/stream?quality=low&access_token=a.b%2Bc");
  expect(streamUrl("t1", "high", null)).toBe("/api/tracks/t1/stream?quality=high");
  expect(coverUrl("x y", 128, "tok")).toBe("/api/tracks/x%20y/cover?size=128&access_token=tok");
  expect(masterUrl("t1")).toBe("/api/tracks/t1/hls/master.m3u8");
  expect(nativeMasterUrl("t1", "tok")).toBe("/api/tracks/t1/hls/master.m3u8?access_token=tok");
});
