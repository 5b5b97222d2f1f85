// Server address, pairing code and pack. Kept in figma.clientStorage: on this computer, for this user only.
import { useState } from "preact/hooks";
import type { PackInfo } from "../../protocol/index.ts";
import type { Settings } from "../lib/settings.ts";
import { DEFAULT_SERVER_URL } from "../lib/settings.ts";

export function SettingsPanel(props: { settings: Settings; packs: readonly PackInfo[]; pack: PackInfo | null; onSave(url: string, token: string, pack: string | null): void; onClose(): void }) {
  const [url, setUrl] = useState(props.settings.serverUrl);
  const [token, setToken] = useState(props.settings.token);
  const [pack, setPack] = useState<string | null>(props.pack?.name ?? props.settings.pack);
  return (
    // Not a <form>: Figma's sandboxed iframe may block form submission; Enter in a field saves.
    <div
      class="settings"
      onKeyDown={(e) => {
        if (e.key === "Enter" && (e.target as HTMLElement).tagName === "INPUT") props.onSave(url, token, pack);
      }}
    >
      <h2>Settings</h2>
      <label class="field wide">
        <span>Server address</span>
        <input type="text" value={url} placeholder={DEFAULT_SERVER_URL} onInput={(e) => setUrl((e.currentTarget as HTMLInputElement).value)} spellcheck={false} />
      </label>
      <label class="field wide">
        <span>Pairing code (shown in the server's terminal; npx phototype pair prints it)</span>
        <input type="password" value={token} onInput={(e) => setToken((e.currentTarget as HTMLInputElement).value)} autocomplete="off" />
      </label>
      {props.packs.length > 0 ? (
        <label class="field wide">
          <span>Model pack</span>
          <select value={pack ?? ""} onChange={(e) => setPack((e.currentTarget as HTMLSelectElement).value || null)}>
            {props.packs.map((p) => (
              <option key={p.name} value={p.name}>
                {p.title} ({p.resolution} px)
              </option>
            ))}
          </select>
        </label>
      ) : null}
      {props.pack ? (
        <p class="muted small">
          {props.pack.quality} Licence: {props.pack.license}
        </p>
      ) : null}
      <p class="muted small">Stored on this computer for your Figma account only, never in the file.</p>
      <div class="row end">
        <button type="button" onClick={props.onClose}>
          Cancel
        </button>
        <button type="button" class="primary save" onClick={() => props.onSave(url, token, pack)}>
          Save
        </button>
      </div>
    </div>
  );
}
