// The last results (clientStorage); a click puts one back over the selected frame.
import type { HistoryEntry } from "../lib/history.ts";
import { timeAgo } from "../lib/history.ts";

export function HistoryList(props: { entries: readonly HistoryEntry[]; canInsert: boolean; onInsert(e: HistoryEntry): void }) {
  if (props.entries.length === 0) return null;
  const now = Date.now();
  return (
    <section class="history" aria-label="History">
      <h2>
        History <span class="muted">· click to add again</span>
      </h2>
      <div class="thumbs">
        {props.entries.map((e) => (
          <button
            key={e.id}
            class="thumb"
            title={`Seed ${e.seed} · ${e.packTitle} · ${timeAgo(e.time, now)}${props.canInsert ? "" : " (select a frame to add it)"}`}
            data-seed={e.seed}
            onClick={() => props.onInsert(e)}
          >
            <img src={`data:image/png;base64,${e.png}`} alt={`Seed ${e.seed}`} width={48} height={48} />
          </button>
        ))}
      </div>
    </section>
  );
}
