// Reads an AudioContext's output clock: the `getOutputTimestamp()` pair plus the latencies the
// fallback needs, in the shape the pure clock maths takes.
import type { OutputReading } from "../../lib/clock";

export function readOutput(ctx: AudioContext): OutputReading {
  const ts = typeof ctx.getOutputTimestamp === "function" ? ctx.getOutputTimestamp() : {};
  return {
    contextTime: ts.contextTime ?? 0,
    performanceTime: ts.performanceTime ?? 0,
    currentTime: ctx.currentTime,
    perfNow: performance.now(),
    outputLatency: Number.isFinite(ctx.outputLatency) ? ctx.outputLatency : 0,
    baseLatency: Number.isFinite(ctx.baseLatency) ? ctx.baseLatency : 0,
  };
}
