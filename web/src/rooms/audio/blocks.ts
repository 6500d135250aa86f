// Cuts render quanta (128 frames, one array per input channel) into fixed blocks of planar PCM
// for the encoder. A mono input is copied to both channels; no input at all (a source not
// connected yet, or ended) is silence, so the block clock never stops.

export interface Block {
  /** Context frame of the first sample. */
  frame: number;
  channels: number;
  /** `channels` runs of `blockFrames` samples. */
  pcm: Float32Array;
}

export class Blocker {
  private pcm: Float32Array;
  private fill = 0;
  private first = 0;

  constructor(
    readonly channels: number,
    readonly blockFrames: number,
  ) {
    this.pcm = new Float32Array(channels * blockFrames);
  }

  /** Adds `n` frames starting at context frame `frame`; returns the blocks completed. */
  push(input: Float32Array[], frame: number, n: number): Block[] {
    const done: Block[] = [];
    let i = 0;
    while (i < n) {
      if (this.fill === 0) this.first = frame + i;
      const k = Math.min(n - i, this.blockFrames - this.fill);
      for (let c = 0; c < this.channels; c++) {
        const src = input.length > 0 ? input[Math.min(c, input.length - 1)] : null;
        const dst = this.pcm.subarray(c * this.blockFrames + this.fill, c * this.blockFrames + this.fill + k);
        if (src) dst.set(src.subarray(i, i + k));
        else dst.fill(0);
      }
      this.fill += k;
      i += k;
      if (this.fill === this.blockFrames) {
        done.push({ frame: this.first, channels: this.channels, pcm: this.pcm });
        this.pcm = new Float32Array(this.channels * this.blockFrames);
        this.fill = 0;
      }
    }
    return done;
  }
}
