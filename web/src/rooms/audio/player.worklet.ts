// The guest's audio worklet: plays decoded frames at their target context frames through a
// PlayoutStream (drift corrected by sample drop/insert) and tells the page, a few dozen times a
// second, which frames started where and how much is buffered.
import { PlayoutStream } from "./stream";
import { PLAYER_PROCESSOR, type PlayerIn, type PlayerStatus } from "./protocol";

/** Quanta between status messages (8 × 128 samples ≈ 21 ms at 48 kHz). */
const STATUS_EVERY = 8;

class RoomPlayer extends AudioWorkletProcessor {
  private stream = new PlayoutStream();
  private quanta = 0;
  private lead: number | null = null;

  constructor() {
    super();
    this.port.onmessage = (e: MessageEvent<PlayerIn>) => {
      if (e.data.type === "frame") {
        this.lead = e.data.frame.start - currentFrame;
        this.stream.push(e.data.frame);
      } else {
        this.stream.clear();
      }
    };
  }

  process(_inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
    const out = outputs[0];
    if (out && out.length > 0) this.stream.render(out, currentFrame);
    if (++this.quanta % STATUS_EVERY === 0) {
      const now = currentFrame + (out?.[0]?.length ?? 128);
      const status: PlayerStatus = {
        type: "status",
        now,
        started: this.stream.started,
        bufferedFrames: this.stream.bufferedAhead(now),
        lead: this.lead,
        drift: this.stream.drift(now),
        stats: { ...this.stream.stats },
      };
      this.stream.started = [];
      this.port.postMessage(status);
    }
    return true;
  }
}

registerProcessor(PLAYER_PROCESSOR, RoomPlayer);
