// The analysis chart as data: a track's timeline (a chroma vector and an energy value per step)
// and its beats become rectangles, a polyline, ticks and labels in a fixed logical coordinate
// space, plus a sentence that summarizes the chart for screen readers. AnalysisChart only
// draws this plan on a <canvas>, so everything here is unit-tested in node.
import type { Analysis } from "../api/types";
import { formatDuration } from "../lib/format";
import { PITCH_CLASSES, spokenPitch } from "./musicKeys";

/** The chart's geometry in CSS pixels (the canvas scales it to the screen's density). */
export const LAYOUT = {
  /** The default width; the component lays the chart out for the width it has. */
  width: 800,
  minWidth: 240,
  /** Room for the pitch-class names left of the heatmap. */
  left: 34,
  right: 8,
  top: 6,
  rowHeight: 12,
  /** Beat ticks sit in a band under the heatmap. */
  tickGap: 3,
  tickHeight: 8,
  /** The time axis' labels under the ticks. */
  axisHeight: 18,
  /** Narrowest heatmap column: longer timelines are averaged into wider bins. */
  minColumn: 2,
  /** Closest two beat ticks may be; denser beats are thinned. */
  minTickGap: 3,
} as const;

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}
export interface Cell extends Rect {
  /** The pitch class (0 = C … 11 = B). */
  pc: number;
  /** The chroma value drawn, 0..1. */
  value: number;
  fill: string;
}
export interface Point {
  x: number;
  y: number;
}
export interface Label {
  text: string;
  x: number;
  y: number;
  align: "left" | "center" | "right";
}

export interface ChartPlan {
  width: number;
  height: number;
  /** The heatmap's area (its background shows where the timeline has no data). */
  heat: Rect;
  /** Chroma cells: one per pitch class per column, C at the bottom, B at the top. */
  cells: Cell[];
  /** The energy curve over the heatmap (0 at its bottom, 1 at its top). */
  energy: Point[];
  /** The band beat ticks are drawn in, and each tick's x. */
  tickBand: Rect;
  beats: number[];
  /** Pitch-class names and time-axis labels. */
  labels: Label[];
  /** Seconds the chart's width stands for. */
  spanS: number;
  /** The index of the strongest pitch class over the whole track, or null without chroma. */
  strongest: number | null;
  /** What the chart shows, in words (the canvas' aria-label). */
  summary: string;
}

export type ChartInput = Pick<Analysis, "duration_s" | "beats" | "timeline">;

const clamp01 = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0);

/** Colour stops of the heatmap, from absent (near the page's surface) to strongest (warm yellow). */
const STOPS: [number, [number, number, number]][] = [
  [0, [24, 28, 38]],
  [0.35, [38, 70, 140]],
  [0.7, [42, 157, 143]],
  [1, [244, 211, 94]],
];

/** The heatmap colour of a 0..1 value (clamped; not a number counts as 0). */
export function heatColor(value: number): string {
  const v = clamp01(value);
  let i = 1;
  while (i < STOPS.length - 1 && v > STOPS[i][0]) i++;
  const [v0, c0] = STOPS[i - 1];
  const [v1, c1] = STOPS[i];
  const f = v1 === v0 ? 0 : (v - v0) / (v1 - v0);
  const c = c0.map((a, k) => Math.round(a + (c1[k] - a) * f));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

/**
 * Splits `steps` timeline steps into at most `columns` bins of consecutive steps, as
 * [first, end) index pairs covering every step once.
 */
export function bins(steps: number, columns: number): [number, number][] {
  const n = Math.max(0, Math.floor(steps));
  const cols = Math.max(1, Math.min(n, Math.floor(columns)));
  const out: [number, number][] = [];
  if (n === 0) return out;
  for (let j = 0; j < cols; j++) out.push([Math.floor((j * n) / cols), Math.floor(((j + 1) * n) / cols)]);
  return out;
}

/** The pitch class with the most chroma summed over all steps; null when there is none. */
export function strongestPitchClass(chroma: readonly (readonly number[])[]): number | null {
  const sums = new Array<number>(12).fill(0);
  for (const v of chroma) for (let p = 0; p < 12; p++) sums[p] += clamp01(v?.[p]);
  let best = 0;
  for (let p = 1; p < 12; p++) if (sums[p] > sums[best]) best = p;
  return sums[best] > 0 ? best : null;
}

/** The chart's geometry for `input`, laid out `width` CSS pixels wide (rows keep their height). */
export function chartPlan(input: ChartInput, width: number = LAYOUT.width): ChartPlan {
  const L = LAYOUT;
  const W = Math.max(L.minWidth, Number.isFinite(width) ? Math.floor(width) : L.width);
  const chroma = Array.isArray(input.timeline?.chroma) ? input.timeline.chroma : [];
  const energyValues = Array.isArray(input.timeline?.energy) ? input.timeline.energy : [];
  const steps = Math.max(chroma.length, energyValues.length);
  const duration = Number.isFinite(input.duration_s) && input.duration_s > 0 ? input.duration_s : 0;
  // A step length the server did not give sensibly is inferred from the duration.
  let step = input.timeline?.step_s;
  if (!(typeof step === "number" && Number.isFinite(step) && step > 0)) step = steps > 0 && duration > 0 ? duration / steps : 1;
  // The chart spans the track; a timeline running a little past its end still fits.
  const spanS = Math.max(duration, steps * step) || 1;

  const heat: Rect = { x: L.left, y: L.top, w: W - L.left - L.right, h: 12 * L.rowHeight };
  const tickBand: Rect = { x: heat.x, y: heat.y + heat.h + L.tickGap, w: heat.w, h: L.tickHeight };
  const axisY = tickBand.y + tickBand.h + L.axisHeight / 2;
  const height = Math.ceil(axisY + L.axisHeight / 2);
  const xAt = (t: number) => heat.x + (Math.min(Math.max(t, 0), spanS) / spanS) * heat.w;

  const cells: Cell[] = [];
  const energy: Point[] = [];
  for (const [s0, s1] of bins(steps, heat.w / L.minColumn)) {
    const x0 = Math.round(xAt(s0 * step));
    const x1 = Math.round(xAt(s1 * step));
    if (x1 <= x0) continue;
    const withChroma = Math.max(0, Math.min(s1, chroma.length) - s0);
    if (withChroma > 0) {
      for (let p = 0; p < 12; p++) {
        let sum = 0;
        for (let s = s0; s < s0 + withChroma; s++) sum += clamp01(chroma[s]?.[p]);
        const value = sum / withChroma;
        cells.push({ x: x0, y: heat.y + (11 - p) * L.rowHeight, w: x1 - x0, h: L.rowHeight, pc: p, value, fill: heatColor(value) });
      }
    }
    const withEnergy = Math.max(0, Math.min(s1, energyValues.length) - s0);
    if (withEnergy > 0) {
      let sum = 0;
      for (let s = s0; s < s0 + withEnergy; s++) sum += clamp01(energyValues[s]);
      energy.push({ x: (x0 + x1) / 2, y: heat.y + (1 - sum / withEnergy) * heat.h });
    }
  }

  const beats: number[] = [];
  for (const t of Array.isArray(input.beats) ? input.beats : []) {
    if (!Number.isFinite(t) || t < 0 || t > spanS) continue;
    const x = xAt(t);
    if (beats.length === 0 || x - beats[beats.length - 1] >= L.minTickGap) beats.push(x);
  }

  const labels: Label[] = PITCH_CLASSES.map((name, p) => ({
    text: name,
    x: heat.x - 6,
    y: heat.y + (11 - p + 0.5) * L.rowHeight,
    align: "right" as const,
  }));
  labels.push({ text: formatDuration(0), x: heat.x, y: axisY, align: "left" });
  labels.push({ text: formatDuration(spanS * 1000), x: heat.x + heat.w, y: axisY, align: "right" });
  if (spanS >= 2) labels.push({ text: formatDuration((spanS / 2) * 1000), x: heat.x + heat.w / 2, y: axisY, align: "center" });

  const strongest = strongestPitchClass(chroma);
  return {
    width: W,
    height,
    heat,
    cells,
    energy,
    tickBand,
    beats,
    labels,
    spanS,
    strongest,
    summary: chartSummary(spanS, strongest, energyValues, step),
  };
}

/** "Chroma and energy over 3:20; strongest pitch class A; energy peaks at 1:42". */
export function chartSummary(spanS: number, strongest: number | null, energy: readonly number[], stepS: number): string {
  const parts = [`Chroma and energy over ${formatDuration(spanS * 1000)}`];
  parts.push(strongest === null ? "no pitch content" : `strongest pitch class ${spokenPitch(strongest)}`);
  let peak = -1;
  for (let i = 0; i < energy.length; i++) if (peak < 0 || clamp01(energy[i]) > clamp01(energy[peak])) peak = i;
  if (peak >= 0 && clamp01(energy[peak]) > 0) parts.push(`energy peaks at ${formatDuration(Math.min((peak + 0.5) * stepS, spanS) * 1000)}`);
  return parts.join("; ");
}
