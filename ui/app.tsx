// The plugin panel: connection, frame, palette, controls, preview, messages, history.
import { useEffect, useState } from "preact/hooks";
import { ConnectionBar } from "./components/ConnectionBar.tsx";
import { Controls } from "./components/Controls.tsx";
import { HistoryList } from "./components/HistoryList.tsx";
import { NoticeBox } from "./components/NoticeBox.tsx";
import { Palette } from "./components/Palette.tsx";
import { PreviewPane, ProgressBar } from "./components/PreviewPane.tsx";
import { SettingsPanel } from "./components/SettingsPanel.tsx";
import type { Session, UiState } from "./session.ts";

function useSessionState(session: Session): UiState {
  const [state, setState] = useState(session.state);
  useEffect(() => session.subscribe(() => setState(session.state)), [session]);
  return state;
}

function FrameLine({ state }: { state: UiState }) {
  if (!state.frame) return <p class="frame-line muted">{state.frameProblem?.message ?? "Select a frame."}</p>;
  const { name, width, height } = state.frame;
  const square = Math.abs(width - height) < 0.5;
  return (
    <p class="frame-line" data-frame-id={state.frame.id}>
      Frame <strong>{name}</strong> · {Math.round(width)} × {Math.round(height)}
      {square ? "" : <span class="muted"> · uses its centre square</span>}
    </p>
  );
}

export function App({ session }: { session: Session }) {
  const state = useSessionState(session);
  const connected = state.connection.status === "open";
  return (
    <main class="app">
      <ConnectionBar state={state.connection} packTitle={state.pack?.title ?? null} onRetry={() => session.retryNow()} onSettings={() => session.toggleSettings(!state.showSettings)} />
      {state.showSettings ? <NoticeBox notice={state.notice} onDismiss={() => session.dismissNotice()} /> : null}
      {state.showSettings ? (
        <SettingsPanel
          settings={state.settings}
          packs={state.packs}
          pack={state.pack}
          onSave={(url, token, pack) => session.applySettings(url, token, pack)}
          onClose={() => session.toggleSettings(false)}
        />
      ) : (
        <>
          <FrameLine state={state} />
          {state.pack ? <Palette classes={state.pack.classes} selectedShapes={state.selectedShapes} hasFrame={!!state.frame} onPick={(id) => session.applyClass(id)} /> : null}
          <Controls
            settings={state.settings}
            canGenerate={connected && !!state.pack && !!state.frame}
            busy={!!state.busy}
            onSeed={(s) => session.setSeed(s)}
            onDice={() => session.rollSeed()}
            onLock={(l) => session.setSeedLocked(l)}
            onVariations={(n) => session.setVariations(n)}
            onLive={(on) => session.setLive(on)}
            onGenerate={() => session.generate()}
          />
          {state.busy ? <ProgressBar busy={state.busy} /> : null}
          <NoticeBox notice={state.notice} onDismiss={() => session.dismissNotice()} />
          <PreviewPane preview={state.preview} layout={state.layout} pack={state.pack} previewPending={!!state.previewPending && !state.busy} />
          <HistoryList entries={state.history} canInsert={!!state.frame} onInsert={(e) => session.reinsert(e)} />
        </>
      )}
    </main>
  );
}
