// The server connection in one line: connected (pack, provider), connecting, or retrying.
import { useEffect, useState } from "preact/hooks";
import type { ConnectionState } from "../connection.ts";
import { GearIcon } from "./icons.tsx";

function host(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function Countdown({ until }: { until: number }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(t);
  }, [until]);
  const s = Math.max(0, Math.ceil((until - now) / 1000));
  return <>{s > 0 ? `retrying in ${s} s` : "retrying…"}</>;
}

export function ConnectionBar(props: { state: ConnectionState; packTitle: string | null; onRetry(): void; onSettings(): void }) {
  const { state } = props;
  let dot: string;
  let text: preact.ComponentChildren;
  switch (state.status) {
    case "open":
      dot = "ok";
      text = (
        <>
          Connected to {host(state.url)}
          {props.packTitle ? ` · ${props.packTitle}` : ""} · {state.welcome.provider.toUpperCase()}
        </>
      );
      break;
    case "connecting":
      dot = "busy";
      text = <>Connecting to {host(state.url)}…</>;
      break;
    case "waiting":
      dot = "down";
      text = (
        <>
          {state.reason} Server: {host(state.url)}, <Countdown until={state.retryAt} />.{" "}
          <button class="link" onClick={props.onRetry}>
            Retry now
          </button>
          <br />
          <span class="muted">Start it with npm start in the Phototype folder, or check the address in settings.</span>
        </>
      );
      break;
    case "stopped":
      dot = "down";
      // The pairing panel below says why and what to do.
      text = state.needsCode ? <>Not paired with the server at {host(state.url)}.</> : <>{state.reason}</>;
      break;
  }
  return (
    <header class="connection" data-status={state.status}>
      <span class={`dot ${dot}`} aria-hidden="true" />
      <span class="connection-text" role="status">
        {text}
      </span>
      <button class="icon" title="Settings" aria-label="Settings" onClick={props.onSettings}>
        <GearIcon />
      </button>
    </header>
  );
}
