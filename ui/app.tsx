// The plugin panel: connection, frame, palette, controls, preview, messages, history.
import { useEffect, useState } from "preact/hooks";
import { ConnectionBar } from "./components/ConnectionBar.tsx";
import { Controls } from "./components/Controls.tsx";
import { HistoryList } from "./components/HistoryList.tsx";
import { NoticeBox } from "./components/NoticeBox.tsx";
import { Palette } from "./components/Palette.tsx";
import { PreviewPane, ProgressBar } from "./components/PreviewPane.tsx";
import { SettingsPanel } from "./components/SettingsPanel.tsx";
import { ConditionPicker } from "./components/ConditionPicker.tsx";
import { PhotoActions } from "./components/PhotoActions.tsx";
import { PairingPanel } from "./components/PairingPanel.tsx";
import { swatchesOf } from "./lib/swatches.ts";
import type { PackInfo } from "../protocol/index.ts";
import type { Session } from "./session/index.ts";
import type { UiState } from "./session/state.ts";

function useSessionState(session: Session): UiState {
  const [state, setState] = useState(session.state);
  useEffect(() => session.subscribe(() => setState(session.state)), [session]);
  return state;
}

function FrameLine({ state }: { state: UiState }) {
  if (!state.frame) return <p class="frame-line muted">{state.frameProblem?.message ?? "Select a frame."}</p>;
  const { name, width, height, source } = state.frame;
  const square = Math.abs(width - height) < 0.5;
  return (
    <>
      <p class="frame-line" data-frame-id={state.frame.id}>
        Frame <strong>{name}</strong> · {Math.round(width)} × {Math.round(height)}
        {square ? "" : <span class="muted"> · uses its centre square</span>}
      </p>
      {source ? (
        <p class="identity-line" data-present={String(source.present)}>
          {source.present ? (
            <>
              Generating with the photo's identity (“{source.name}”)
            </>
          ) : (
            <>The photo this frame was made from (“{source.name}”) is gone: Generate uses seeds.</>
          )}
        </p>
      ) : null}
    </>
  );
}

/** Every pack so far is trained on CelebAMask-HQ: say plainly what that means for results. */
function LicenceNote({ pack }: { pack: PackInfo | null }) {
  if (!pack || pack.commercialUse !== false) return null;
  return (
    <p class="licence-note" title={pack.license}>
      Non-commercial use only: this pack and its results follow its data's licence ({pack.license.split(":")[0]}).
    </p>
  );
}

export function App({ session }: { session: Session }) {
  const state = useSessionState(session);
  const connected = state.connection.status === "open";
  const needsCode = state.connection.status === "stopped" && state.connection.needsCode === true;
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
          {needsCode ? <PairingPanel reason={state.connection.status === "stopped" ? state.connection.reason : ""} onPair={(code) => session.pair(code)} /> : null}
          <FrameLine state={state} />
          {state.pack ? <ConditionPicker pack={state.pack} value={session.conditionKind()} onPick={(k) => session.setCondition(k)} /> : null}
          {state.pack && (session.conditionKind() === "mask" || session.conditionKind() === "scribble") ? (
            <Palette swatches={swatchesOf(state.pack)} selectedShapes={state.selectedShapes} hasFrame={!!state.frame} strokes={session.conditionKind() === "scribble"} onPick={(id) => session.applyClass(id)} />
          ) : null}
          <Controls
            settings={state.settings}
            canGenerate={connected && !!state.pack && (!!state.frame || session.conditionKind() === "edges")}
            busy={!!state.busy}
            canFit={session.conditionKind() === "mask"}
            onSeed={(s) => session.setSeed(s)}
            onDice={() => session.rollSeed()}
            onLock={(l) => session.setSeedLocked(l)}
            onVariations={(n) => session.setVariations(n)}
            onLive={(on) => session.setLive(on)}
            onFit={(k) => session.setFit(k)}
            onGenerate={() => session.generate()}
          />
          {state.pack ? (
            <PhotoActions
              pack={state.pack}
              enabled={connected && !state.busy}
              hasFrame={!!state.frame}
              onExemplar={() => session.useExemplar()}
              onEdit={() => session.editPhoto()}
              onRestyle={() => session.restyleRegion()}
            />
          ) : null}
          {state.busy ? <ProgressBar busy={state.busy} /> : null}
          <NoticeBox notice={state.notice} onDismiss={() => session.dismissNotice()} />
          <PreviewPane preview={state.preview} layout={state.layout} pack={state.pack} previewPending={!!state.previewPending && !state.busy} />
          <HistoryList entries={state.history} canInsert={!!state.frame} onInsert={(e) => session.reinsert(e)} />
          <LicenceNote pack={state.pack} />
        </>
      )}
    </main>
  );
}
