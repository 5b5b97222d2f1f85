// Seed (with lock and dice), variations, live preview and the Generate button.
import { MAX_SEED, MAX_VARIATIONS } from "../../protocol/index.ts";
import type { Settings } from "../lib/settings.ts";
import { DiceIcon, LockIcon } from "./icons.tsx";

export interface ControlsProps {
  settings: Settings;
  canGenerate: boolean;
  busy: boolean;
  onSeed(seed: number): void;
  onDice(): void;
  onLock(locked: boolean): void;
  onVariations(n: number): void;
  onLive(on: boolean): void;
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
