import { describe, expect, it } from "vitest";
import { Blocker } from "./blocks";

const quantum = (start: number, n = 128) => Float32Array.from({ length: n }, (_, i) => start + i);

describe("Blocker", () => {
  it("cuts 128-frame quanta into 960-frame planar blocks stamped with their first frame", () => {
    const b = new Blocker(2, 960);
    const blocks = [];
    for (let q = 0; q < 16; q++) {
      const f = 5_000 + q * 128;
      blocks.push(...b.push([quantum(q * 128), quantum(-q * 128)], f, 128));
    }
    // 16 × 128 = 2048 frames: two full blocks.
    expect(blocks.map((x) => x.frame)).toEqual([5_000, 5_960]);
    expect(blocks[1].pcm[0]).toBe(960);
    expect(blocks[1].pcm[959]).toBe(1_919);
    expect(blocks[1].pcm[960]).toBe(-896 + 64); // channel 1: the quantum from 896, 64 frames in
    expect(blocks[0].pcm).not.toBe(blocks[1].pcm); // each block owns its buffer (it is transferred)
  });

  it("copies mono to both channels and makes silence of no input", () => {
    const b = new Blocker(2, 128);
    const [mono] = b.push([quantum(1)], 0, 128);
    expect(mono.pcm.subarray(128)).toEqual(mono.pcm.subarray(0, 128));
    const [none] = b.push([], 128, 128);
    expect(none.pcm.every((v) => v === 0)).toBe(true);
    expect(none.frame).toBe(128);
  });
});
