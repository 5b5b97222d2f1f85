// One message at a time: what went wrong and what to do, or what just happened.
import type { Notice } from "../session/state.ts";

export function NoticeBox(props: { notice: Notice | null; onDismiss(): void }) {
  const n = props.notice;
  if (!n) return null;
  return (
    <div class={`notice ${n.tone}`} role={n.tone === "error" ? "alert" : "status"} data-tone={n.tone}>
      <p class="notice-text">{n.text}</p>
      {n.detail ? <p class="notice-detail">Server: {n.detail}</p> : null}
      <button class="icon close" aria-label="Dismiss" onClick={props.onDismiss}>
        ×
      </button>
    </div>
  );
}
