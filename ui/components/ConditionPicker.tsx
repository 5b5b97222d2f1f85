// What Generate reads: Shapes | Sketch | Scribble | Photo edges (only the kinds the pack takes).
import type { PackInfo } from "../../protocol/index.ts";
import { PICKED_CONDITIONS, type PickedCondition } from "../lib/settings.ts";

export const CONDITION_LABELS: Record<PickedCondition, { label: string; hint: string }> = {
  mask: { label: "Shapes", hint: "Flat shapes, one colour per face part (the palette below)." },
  sketch: { label: "Sketch", hint: "Black pen or pencil lines in the frame (P or Shift+P); fills are ignored." },
  scribble: { label: "Scribble", hint: "A few strokes per face part, each in its palette colour; no filled shapes needed." },
  edges: { label: "Photo edges", hint: "The selected photo's edge map (a classical edge detector) sets the layout; results go beside the photo." },
};

export function ConditionPicker(props: { pack: PackInfo; value: PickedCondition; onPick(kind: PickedCondition): void }) {
  const kinds = PICKED_CONDITIONS.filter((k) => props.pack.conditions.includes(k));
  if (kinds.length < 2) return null;
  return (
    <section class="condition-picker" aria-label="Draw with">
      <div class="segmented" role="radiogroup" aria-label="Condition">
        {kinds.map((k) => (
          <button
            key={k}
            type="button"
            role="radio"
            aria-checked={props.value === k}
            class={props.value === k ? "on" : ""}
            data-kind={k}
            title={CONDITION_LABELS[k].hint}
            onClick={() => props.onPick(k)}
          >
            {CONDITION_LABELS[k].label}
          </button>
        ))}
      </div>
      <p class="hint">{CONDITION_LABELS[props.value].hint}</p>
    </section>
  );
}
