import { describe, expect, it } from "vitest";
import type { Track } from "../api/types";
import { nextQueued, uploadLabel, uploadsReducer, type UploadItem } from "./uploads";

const track = { id: "t1", title: "New" } as Track;

function added(): UploadItem[] {
  return uploadsReducer([], {
    type: "add",
    files: [
      { name: "a.flac", size: 1000 },
      { name: "b.txt", size: 10 },
      { name: "c.mp3", size: 2048 },
    ],
    firstKey: 7,
  });
}

describe("uploadsReducer", () => {
  it("queues files with fresh keys", () => {
    const items = added();
    expect(items.map((i) => [i.key, i.phase])).toEqual([
      [7, "queued"],
      [8, "queued"],
      [9, "queued"],
    ]);
    expect(uploadLabel(items[0])).toBe("Waiting to upload");
  });

  it("follows one file from upload to ready", () => {
    let items = uploadsReducer(added(), { type: "start", key: 7 });
    items = uploadsReducer(items, { type: "progress", key: 7, sent: 500 });
    expect(uploadLabel(items[0])).toBe("Uploading: 50% (500 B of 1000 B)");
    items = uploadsReducer(items, { type: "progress", key: 7, sent: 5000 });
    expect(items[0].sent).toBe(1000);
    items = uploadsReducer(items, { type: "uploaded", key: 7, track });
    expect(items[0]).toMatchObject({ phase: "processing", processing: "pending", track });
    items = uploadsReducer(items, { type: "processing", key: 7, status: "processing", reason: null });
    expect(uploadLabel(items[0])).toMatch(/packaging/);
    items = uploadsReducer(items, { type: "processing", key: 7, status: "ready", reason: null });
    expect(items[0].phase).toBe("ready");
    expect(uploadLabel(items[0])).toBe("Ready to play");
    // A late poll answer cannot move a finished file back.
    items = uploadsReducer(items, { type: "processing", key: 7, status: "processing", reason: null });
    expect(items[0].phase).toBe("ready");
  });

  it("keeps the server's reason when a file fails", () => {
    let items = uploadsReducer(added(), { type: "start", key: 8 });
    items = uploadsReducer(items, { type: "failed", key: 8, message: '"b.txt" is not playable audio' });
    expect(uploadLabel(items[1])).toBe('"b.txt" is not playable audio');
    items = uploadsReducer(items, { type: "uploaded", key: 9, track });
    items = uploadsReducer(items, { type: "processing", key: 9, status: "failed", reason: "decode error" });
    expect(uploadLabel(items[2])).toBe("Processing failed: decode error");
  });

  it("clears finished files only", () => {
    let items = uploadsReducer(added(), { type: "failed", key: 8, message: "x" });
    items = uploadsReducer(items, { type: "clearFinished" });
    expect(items.map((i) => i.key)).toEqual([7, 9]);
  });
});

describe("nextQueued", () => {
  it("fills free upload slots in order", () => {
    const items = added();
    expect(nextQueued(items, 2).map((i) => i.key)).toEqual([7, 8]);
    const one = uploadsReducer(items, { type: "start", key: 7 });
    expect(nextQueued(one, 2).map((i) => i.key)).toEqual([8]);
    const two = uploadsReducer(one, { type: "start", key: 8 });
    expect(nextQueued(two, 2)).toEqual([]);
  });
});
