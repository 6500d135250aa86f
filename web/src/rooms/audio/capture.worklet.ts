// The host's audio worklet: cuts the captured input into 20 ms blocks (960 frames at 48 kHz)
// and sends each, with the context frame of its first sample, to the encoder worker through a
// MessagePort the page hands over (so audio never waits on the page's main thread).
import { Blocker } from "./blocks";
import { CAPTURE_PROCESSOR, type CaptureBlock, type CaptureIn } from "./protocol";

interface CaptureOptions {
  channels: number;
  blockFrames: number;
}

class RoomCapture extends AudioWorkletProcessor {
  private out: MessagePort | null = null;
  private blocker: Blocker;

  constructor(options?: AudioWorkletNodeOptions) {
    super(options);
    const o = (options?.processorOptions ?? {}) as Partial<CaptureOptions>;
    this.blocker = new Blocker(o.channels ?? 2, o.blockFrames ?? 960);
    this.port.onmessage = (e: MessageEvent<CaptureIn>) => {
      if ("port" in e.data) {
        this.out = e.data.port;
      } else {
        this.out?.close();
        this.out = null;
      }
    };
  }

  process(inputs: Float32Array[][]): boolean {
    const input = inputs[0] ?? [];
    const n = input[0]?.length ?? 128;
    for (const b of this.blocker.push(input, currentFrame, n)) {
      const msg: CaptureBlock = { type: "block", frame: b.frame, channels: b.channels, pcm: b.pcm };
      this.out?.postMessage(msg, [b.pcm.buffer]);
    }
    return true;
  }
}

registerProcessor(CAPTURE_PROCESSOR, RoomCapture);
