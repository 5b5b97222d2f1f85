// The pack's face parts as swatches (one for both eyes: swatches.ts). A click recolours the
// selected shapes, or adds a shape of that part.
import type { Swatch } from "../lib/swatches.ts";

export function Palette(props: { swatches: readonly Swatch[]; selectedShapes: number; hasFrame: boolean; strokes?: boolean; onPick(id: number): void }) {
  const n = props.selectedShapes;
  const hint = !props.hasFrame
    ? "Select a frame to draw in."
    : props.strokes
      ? n > 0
        ? `Click a part to colour the ${n} selected stroke${n === 1 ? "" : "s"}.`
        : "Draw strokes with the pen, select them, then click a part to colour them."
      : n > 0
        ? `Click a part to recolour the ${n} selected shape${n === 1 ? "" : "s"}.`
        : "Click a part to add a shape of it to the frame, or select shapes to recolour them.";
  return (
    <section class="palette" aria-label="Face parts">
      <div class="swatches">
        {props.swatches.map((c) => (
          <button key={c.classId} class="swatch" title={`${c.label} (${c.color})`} data-class={c.name} onClick={() => props.onPick(c.classId)} disabled={!props.hasFrame}>
            <span class="chip" style={{ background: c.color }} />
            <span class="swatch-label">{c.label.replace(/\s*\(.*\)$/, "")}</span>
          </button>
        ))}
      </div>
      <p class="hint">{hint}</p>
    </section>
  );
}
