import { useEffect, useMemo, useRef, useState } from "react";
import type { Analysis } from "../api/types";
import { chartPlan, LAYOUT } from "./analysisChart";

const COLORS = {
  background: "#151a24",
  tick: "#a9afbb",
  label: "#a9afbb",
  line: "#ffffff",
  lineShadow: "rgba(0, 0, 0, 0.7)",
};

/**
 * The chroma-over-time heatmap with the energy curve over it and beat ticks under it, drawn
 * from `chartPlan` on a canvas laid out for the width it has and the screen's pixel density.
 * The canvas is one image to assistive technology, named by the plan's summary.
 */
export function AnalysisChart({ analysis }: { analysis: Analysis }) {
  const figure = useRef<HTMLElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [width, setWidth] = useState<number>(LAYOUT.width);
  useEffect(() => {
    const el = figure.current;
    if (!el) return;
    const measure = () => el.clientWidth > 0 && setWidth(el.clientWidth);
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const plan = useMemo(() => chartPlan(analysis, width), [analysis, width]);
  const dpr = Math.min(3, Math.max(1, Math.round(globalThis.devicePixelRatio || 1)));

  useEffect(() => {
    const ctx = canvas.current?.getContext("2d");
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, plan.width, plan.height);
    const { heat, tickBand } = plan;
    ctx.fillStyle = COLORS.background;
    ctx.fillRect(heat.x, heat.y, heat.w, heat.h);
    for (const c of plan.cells) {
      ctx.fillStyle = c.fill;
      ctx.fillRect(c.x, c.y, c.w, c.h);
    }
    if (plan.energy.length > 0) {
      ctx.beginPath();
      plan.energy.forEach((p, i) => (i === 0 ? ctx.moveTo(p.x, p.y) : ctx.lineTo(p.x, p.y)));
      if (plan.energy.length === 1) ctx.arc(plan.energy[0].x, plan.energy[0].y, 1.5, 0, 2 * Math.PI);
      ctx.lineJoin = "round";
      ctx.lineCap = "round";
      ctx.strokeStyle = COLORS.lineShadow;
      ctx.lineWidth = 4;
      ctx.stroke();
      ctx.strokeStyle = COLORS.line;
      ctx.lineWidth = 1.75;
      ctx.stroke();
    }
    ctx.fillStyle = COLORS.tick;
    for (const x of plan.beats) ctx.fillRect(x - 0.5, tickBand.y, 1, tickBand.h);
    ctx.fillStyle = COLORS.label;
    ctx.font = "10px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    for (const l of plan.labels) {
      ctx.textAlign = l.align;
      ctx.fillText(l.text, l.x, l.y);
    }
  }, [plan, dpr]);

  return (
    <figure className="analysis-chart" ref={figure}>
      <canvas
        ref={canvas}
        width={plan.width * dpr}
        height={plan.height * dpr}
        role="img"
        aria-label={plan.summary}
        data-testid="analysis-chart"
        data-cells={plan.cells.length}
      />
      <figcaption className="muted small">
        Colour: how strongly each pitch class (C at the bottom, B at the top) sounds over time. Line: energy. Ticks:
        beats.
      </figcaption>
    </figure>
  );
}
