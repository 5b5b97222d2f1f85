// The latest image (live preview or final), the layout the networks see, and progress.
import { useEffect, useRef } from "preact/hooks";
import type { PackInfo } from "../../server/protocol.ts";
import { parseHex } from "../lib/palette.ts";
import type { Busy, LayoutSummary, PreviewImage } from "../session.ts";

function MaskView({ layout, pack }: { layout: LayoutSummary; pack: PackInfo }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    const ctx = canvas?.getContext("2d");
    if (!canvas || !ctx) return;
    const n = layout.resolution;
    canvas.width = n;
    canvas.height = n;
    const colours = new Map(pack.classes.map((c) => [c.id, parseHex(c.color) ?? { r: 0, g: 0, b: 0 }]));
    const img = ctx.createImageData(n, n);
    for (let i = 0; i < layout.mask.length; i++) {
      const c = colours.get(layout.mask[i]) ?? { r: 255, g: 0, b: 255 };
      img.data[i * 4] = c.r;
      img.data[i * 4 + 1] = c.g;
      img.data[i * 4 + 2] = c.b;
      img.data[i * 4 + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }, [layout, pack]);
  return <canvas ref={ref} class="mask" title="What the model sees: your shapes as face parts" />;
}

function skippedNote(l: LayoutSummary): string {
  const parts: string[] = [];
  if (l.skipped.text) parts.push(`${l.skipped.text} text`);
  if (l.skipped.noFill) parts.push(`${l.skipped.noFill} unfilled`);
  if (l.skipped.masks) parts.push(`${l.skipped.masks} mask`);
  return parts.length ? ` · skipped ${parts.join(", ")}` : "";
}

export function ProgressBar({ busy }: { busy: Busy }) {
  const pct = Math.round(busy.fraction * 100);
  return (
    <div class="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct} aria-label="Generating">
      <div class="bar" style={{ width: `${pct}%` }} />
      <span class="progress-text">{busy.text}</span>
    </div>
  );
}

export function PreviewPane(props: { preview: PreviewImage | null; layout: LayoutSummary | null; pack: PackInfo | null; previewPending: boolean }) {
  const { preview, layout, pack } = props;
  const cropped = layout && Math.abs(layout.frame.width - layout.frame.height) >= 0.5;
  return (
    <section class="preview" aria-label="Preview">
      <div class="stage">
        {preview ? (
          <img class="result" src={preview.src} alt={`Generated face, seed ${preview.seed}`} data-request-id={preview.requestId} data-seed={preview.seed} data-mode={preview.mode} />
        ) : (
          <div class="placeholder">Draw face parts in a frame, then press Generate.</div>
        )}
        {props.previewPending ? <span class="pending" title="Updating preview" /> : null}
      </div>
      <div class="side">
        {preview ? (
          <p class="caption">
            <strong>{preview.mode === "preview" ? "Live preview" : "Last result"}</strong>
            <br />
            seed {preview.seed}
          </p>
        ) : null}
        {layout && pack && layout.packName === pack.name ? (
          <>
            <MaskView layout={layout} pack={pack} />
            <p class="caption layout-note">
              What the model sees: {layout.shapes} shape{layout.shapes === 1 ? "" : "s"} ({layout.byColour} by colour, {layout.byName} by name){skippedNote(layout)}
              {cropped ? `; centre square of ${Math.round(layout.frame.width)} × ${Math.round(layout.frame.height)}` : ""}
            </p>
          </>
        ) : null}
      </div>
    </section>
  );
}
