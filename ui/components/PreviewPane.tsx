// The latest image (live preview or final), the layout the networks see, and progress.
import { useEffect, useRef } from "preact/hooks";
import { NO_STROKE, type PackInfo } from "../../protocol/index.ts";
import { parseHex } from "../lib/palette.ts";
import type { Busy, LayoutSummary, PreviewImage } from "../session/state.ts";

const WHITE = { r: 255, g: 255, b: 255 };
const BLACK = { r: 0, g: 0, b: 0 };

/** The condition as the networks see it: class colours, black strokes on white, or coloured strokes on white. */
function MaskView({ layout, pack }: { layout: LayoutSummary; pack: PackInfo }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    const ctx = canvas?.getContext("2d");
    if (!canvas || !ctx) return;
    const n = layout.resolution;
    canvas.width = n;
    canvas.height = n;
    const colours = new Map(pack.classes.map((c) => [c.id, parseHex(c.color) ?? BLACK]));
    const colourOf = (v: number) => {
      if (layout.kind === "sketch") return v ? BLACK : WHITE;
      if (layout.kind === "scribble" && v === NO_STROKE) return WHITE;
      return colours.get(v) ?? { r: 255, g: 0, b: 255 };
    };
    const img = ctx.createImageData(n, n);
    for (let i = 0; i < layout.mask.length; i++) {
      const c = colourOf(layout.mask[i]);
      img.data[i * 4] = c.r;
      img.data[i * 4 + 1] = c.g;
      img.data[i * 4 + 2] = c.b;
      img.data[i * 4 + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }, [layout, pack]);
  return <canvas ref={ref} class="mask" data-kind={layout.kind} title="What the model sees" />;
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
          <div class="placeholder">Draw face parts in a frame (or pick a photo), then press Generate.</div>
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
              {layout.caption}
              {cropped ? `; centre square of ${Math.round(layout.frame.width)} × ${Math.round(layout.frame.height)}` : ""}
            </p>
          </>
        ) : null}
      </div>
    </section>
  );
}
