// Seed (with lock and dice), variations, fit layout, live preview and the Generate button.
import { MAX_SEED, MAX_VARIATIONS } from "../../protocol/index.ts";
import { FIT_CHOICES, type Settings } from "../lib/settings.ts";
import { DiceIcon, LockIcon } from "./icons.tsx";

export interface ControlsProps {
  settings: Settings;
  canGenerate: boolean;
  busy: boolean;
  /** Fit layout compares with drawn shapes: the other conditions cannot use it. */
  canFit: boolean;
  onSeed(seed: number): void;
  onDice(): void;
  onLock(locked: boolean): void;
  onVariations(n: number): void;
  onLive(on: boolean): void;
  onFit(k: number): void;
  onGenerate(): void;
}

export function Controls(p: ControlsProps) {
  const s = p.settings;
  return (
    <section class="controls">
      <div class="row">
        <label class="field seed">
          <span>Seed</span>
          <input
            type="number"
            min={0}
            max={MAX_SEED}
            step={1}
            value={s.seed}
            onChange={(e) => p.onSeed(Number((e.currentTarget as HTMLInputElement).value))}
            aria-label="Seed"
          />
        </label>
        <button
          class={`icon toggle ${s.seedLocked ? "on" : ""}`}
          title={s.seedLocked ? "Seed locked: every Generate uses this seed" : "Seed unlocked: a new seed after each Generate"}
          aria-pressed={s.seedLocked}
          aria-label="Lock seed"
          onClick={() => p.onLock(!s.seedLocked)}
        >
          <LockIcon open={!s.seedLocked} />
        </button>
        <button class="icon" title="Random seed" aria-label="Random seed" onClick={p.onDice}>
          <DiceIcon />
        </button>
        <label class="field variations">
          <span>Variations</span>
          <input
            type="number"
            min={1}
            max={MAX_VARIATIONS}
            value={s.variations}
            onChange={(e) => p.onVariations(Number((e.currentTarget as HTMLInputElement).value))}
            aria-label="Variations"
          />
        </label>
      </div>
      <div class="row">
        <label
          class="field fit"
          title={
            p.canFit
              ? "Generate makes this many candidates per image and keeps the ones whose layout is closest to your shapes (each keeps its own seed); slower by about as many times. Live preview stays one candidate."
              : "Fit layout compares the result with drawn shapes: pick Shapes to use it."
          }
        >
          <span>Fit layout</span>
          <select value={String(s.fit)} disabled={!p.canFit} onChange={(e) => p.onFit(Number((e.currentTarget as HTMLSelectElement).value))} aria-label="Fit layout">
            {FIT_CHOICES.map((k) => (
              <option key={k} value={String(k)}>
                {k === 1 ? "Off" : `Best of ${k}`}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div class="row">
        <label class="switch" title="Regenerate a preview while you move shapes; nothing is added to the canvas until you press Generate">
          <input type="checkbox" checked={s.live} onChange={(e) => p.onLive((e.currentTarget as HTMLInputElement).checked)} aria-label="Live preview" />
          <span>Live preview</span>
        </label>
        <button class="primary generate" disabled={!p.canGenerate || p.busy} onClick={p.onGenerate}>
          {p.busy ? "Generating…" : s.variations > 1 ? `Generate ${s.variations}` : "Generate"}
        </button>
      </div>
    </section>
  );
}
