// Typed emit/on between the UI iframe and the plugin's main thread (Figma relays
// `parent.postMessage({ pluginMessage })` to `figma.ui.onmessage`, and back as `event.data.pluginMessage`).
import type { MainToUi, UiToMain } from "../plugin/messages.ts";

export function emitToMain(message: UiToMain): void {
  parent.postMessage({ pluginMessage: message }, "*");
}

export function onMainMessage(handler: (message: MainToUi) => void): () => void {
  const listener = (event: MessageEvent) => {
    const msg = (event.data as { pluginMessage?: MainToUi } | null)?.pluginMessage;
    if (msg && typeof msg === "object" && typeof msg.type === "string") handler(msg);
  };
  window.addEventListener("message", listener);
  return () => window.removeEventListener("message", listener);
}
