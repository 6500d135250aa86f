import { describe, expect, it } from "vitest";
import { bins, chartPlan, chartSummary, heatColor, LAYOUT, strongestPitchClass, type ChartInput } from "./analysisChart";

/** A 12-vector with `v` at pitch class `pc` and 0 elsewhere. */
const only = (pc: number, v = 1) => Array.from({ length: 12 }, (_, p) => (p === pc ? v : 0));

function input(p: Partial<ChartInput["timeline"]> & { duration_s?: number; beats?: number[] }): ChartInput {
  return {
    duration_s: p.duration_s ?? 4,
    beats: p.beats ?? [],
    timeline: { step_s: p.step_s ?? 1, energy: p.energy ?? [], chroma: p.chroma ?? [] },
  };
}

const heatW = LAYOUT.width - LAYOUT.left - LAYOUT.right;

describe("bins", () => {
  it("keeps one step per column while they fit", () => {
    expect(bins(3, 10)).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
    ]);
  });
  it("averages long timelines into at most `columns` bins covering every step once", () => {
    const b = bins(1000, 379);
    expect(b).toHaveLength(379);
    expect(b[0][0]).toBe(0);
    expect(b.at(-1)?.[1]).toBe(1000);
    for (let i = 1; i < b.length; i++) expect(b[i][0]).toBe(b[i - 1][1]);
    for (const [s0, s1] of b) expect(s1 - s0).toBeGreaterThanOrEqual(2);
  });
  it("has nothing for an empty timeline", () => {
    expect(bins(0, 100)).toEqual([]);
  });
});

describe("heatColor", () => {
  it("runs from the dark surface to warm yellow, clamped", () => {
    expect(heatColor(0)).toBe("rgb(24, 28, 38)");
    expect(heatColor(1)).toBe("rgb(244, 211, 94)");
    expect(heatColor(0.7)).toBe("rgb(42, 157, 143)");
    expect(heatColor(-3)).toBe(heatColor(0));
    expect(heatColor(7)).toBe(heatColor(1));
    expect(heatColor(Number.NaN)).toBe(heatColor(0));
  });
  it("is monotonic in brightness", () => {
    const sum = (s: string) => s.match(/\d+/g)!.map(Number).reduce((a, b) => a + b, 0);
    for (let v = 0.05; v <= 1; v += 0.05) expect(sum(heatColor(v))).toBeGreaterThanOrEqual(sum(heatColor(v - 0.05)));
  });
});

describe("chartPlan", () => {
  it("makes 12 cells per step, C at the bottom and B at the top, across the whole width", () => {
    const plan = chartPlan(input({ chroma: [only(0), only(9), only(11), only(9)], energy: [0, 0.5, 1, 0.25] }));
    expect(plan.cells).toHaveLength(48);
    const c = plan.cells.find((x) => x.pc === 0 && x.value === 1)!;
    const b = plan.cells.find((x) => x.pc === 11 && x.value === 1)!;
    expect(c.x).toBe(LAYOUT.left);
    expect(c.y).toBe(LAYOUT.top + 11 * LAYOUT.rowHeight); // bottom row
    expect(b.y).toBe(LAYOUT.top); // top row
    expect(b.x).toBe(Math.round(LAYOUT.left + heatW / 2)); // the third of four seconds
    // The columns tile the heatmap without gaps or overlaps.
    const xs = [...new Set(plan.cells.map((x) => x.x))].sort((a, b2) => a - b2);
    const ws = xs.map((x) => plan.cells.find((cell) => cell.x === x)!.w);
    for (let i = 1; i < xs.length; i++) expect(xs[i]).toBe(xs[i - 1] + ws[i - 1]);
    expect(xs.at(-1)! + ws.at(-1)!).toBe(LAYOUT.left + heatW);
    expect(plan.cells.find((x) => x.pc === 9 && x.x === xs[1])!.fill).toBe(heatColor(1));
    expect(plan.cells.find((x) => x.pc === 3 && x.x === xs[1])!.fill).toBe(heatColor(0));
  });

  it("draws energy as a curve over the heatmap: 0 at its bottom, 1 at its top", () => {
    const plan = chartPlan(input({ chroma: [only(0), only(0)], energy: [0, 1], duration_s: 2 }));
    expect(plan.energy).toHaveLength(2);
    expect(plan.energy[0].y).toBe(plan.heat.y + plan.heat.h);
    expect(plan.energy[1].y).toBe(plan.heat.y);
    expect(plan.energy[0].x).toBeCloseTo(LAYOUT.left + heatW / 4, 0);
    expect(plan.energy[1].x).toBeCloseTo(LAYOUT.left + (3 * heatW) / 4, 0);
  });

  it("averages steps into columns when the timeline is longer than the chart is wide", () => {
    const chroma = Array.from({ length: 2000 }, (_, i) => only(i % 2 === 0 ? 2 : 7));
    const energy = Array.from({ length: 2000 }, (_, i) => (i % 2 === 0 ? 0 : 1));
    const plan = chartPlan(input({ chroma, energy, step_s: 0.1, duration_s: 200 }));
    const columns = plan.cells.length / 12;
    expect(columns).toBeLessThanOrEqual(heatW / LAYOUT.minColumn);
    expect(columns).toBeGreaterThan(100);
    // Bins of 5 or 6 alternating steps: each class about half the time, never all or nothing.
    for (const cell of plan.cells) if (cell.pc === 2 || cell.pc === 7) expect(Math.abs(cell.value - 0.5)).toBeLessThanOrEqual(0.1 + 1e-9);
    for (const p of plan.energy) expect(Math.abs(p.y - (plan.heat.y + plan.heat.h / 2))).toBeLessThanOrEqual(0.1 * plan.heat.h + 1e-9);
  });

  it("places and thins beat ticks, dropping ones outside the track", () => {
    const plan = chartPlan(input({ chroma: [only(0)], duration_s: 10, step_s: 10, beats: [0, 5, 5.001, 10, 11, -1, Number.NaN] }));
    expect(plan.beats).toEqual([LAYOUT.left, LAYOUT.left + heatW / 2, LAYOUT.left + heatW]);
    const dense = chartPlan(input({ chroma: [only(0)], duration_s: 600, step_s: 600, beats: Array.from({ length: 2400 }, (_, i) => i / 4) }));
    for (let i = 1; i < dense.beats.length; i++) expect(dense.beats[i] - dense.beats[i - 1]).toBeGreaterThanOrEqual(LAYOUT.minTickGap);
  });

  it("labels the pitch classes and the time axis", () => {
    const plan = chartPlan(input({ chroma: [only(0)], duration_s: 200, step_s: 200 }));
    const texts = plan.labels.map((l) => l.text);
    expect(texts.slice(0, 12)).toEqual(["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]);
    expect(texts).toContain("0:00");
    expect(texts).toContain("3:20");
    expect(texts).toContain("1:40");
    expect(Math.max(...plan.labels.map((l) => l.y))).toBeLessThan(plan.height);
  });

  it("survives a timeline with missing, short or out-of-range data", () => {
    const plan = chartPlan({
      duration_s: 3,
      beats: [],
      timeline: { step_s: 0, energy: [2, -1], chroma: [[0.5], [], only(4, 9)] },
    });
    expect(plan.cells).toHaveLength(36);
    expect(plan.cells.every((c) => c.value >= 0 && c.value <= 1)).toBe(true);
    expect(plan.energy.map((p) => p.y)).toEqual([plan.heat.y, plan.heat.y + plan.heat.h]);
    expect(plan.strongest).toBe(4);

    const empty = chartPlan({ duration_s: 0, beats: [], timeline: { step_s: 1, energy: [], chroma: [] } });
    expect(empty.cells).toEqual([]);
    expect(empty.energy).toEqual([]);
    expect(empty.summary).toBe("Chroma and energy over 0:01; no pitch content");
  });

  it("lays out for the width it is given, rows keeping their height", () => {
    const narrow = chartPlan(input({ chroma: [only(0), only(1)], energy: [0, 1], duration_s: 2 }), 375);
    expect(narrow.width).toBe(375);
    expect(narrow.heat.w).toBe(375 - LAYOUT.left - LAYOUT.right);
    expect(narrow.height).toBe(chartPlan(input({ chroma: [only(0)] })).height);
    const xs = narrow.cells.map((c) => c.x + c.w);
    expect(Math.max(...xs)).toBe(375 - LAYOUT.right);
    expect(chartPlan(input({ chroma: [only(0)] }), 10).width).toBe(LAYOUT.minWidth);
    expect(chartPlan(input({ chroma: [only(0)] }), Number.NaN).width).toBe(LAYOUT.width);
  });

  it("summarizes the chart for screen readers", () => {
    const chroma = [only(9), only(9, 0.8), only(0, 0.9), only(9)];
    const plan = chartPlan(input({ chroma, energy: [0.2, 0.9, 0.4, 0.1], duration_s: 200, step_s: 50 }));
    expect(plan.summary).toBe("Chroma and energy over 3:20; strongest pitch class A; energy peaks at 1:15");
  });
});

describe("strongestPitchClass and chartSummary", () => {
  it("speaks sharps and finds the strongest class over all steps", () => {
    expect(strongestPitchClass([only(6), only(6), only(1)])).toBe(6);
    expect(strongestPitchClass([])).toBeNull();
    expect(strongestPitchClass([only(0, 0)])).toBeNull();
    expect(chartSummary(65, 6, [], 1)).toBe("Chroma and energy over 1:05; strongest pitch class F sharp");
  });
});
