// What the modules beside index.ts (requests.ts, on-server.ts, on-main.ts) use of the Session: its
// state, the parts they share with it and the few actions they call. Session implements this;
// they depend on it instead of on the class, so index.ts can import them without a cycle.
import type { PackInfo, Welcome } from "../../protocol/index.ts";
import type { ServerConnection } from "../connection.ts";
import type { RequestBook } from "../lib/requests.ts";
import type { PickedCondition } from "../lib/settings.ts";
import type { MainThreadReads } from "./ask-main.ts";
import type { UiState } from "./state.ts";

export interface SessionContext {
  readonly state: UiState;
  set(patch: Partial<UiState>): void;
  readonly book: RequestBook;
  readonly connection: ServerConnection | null;
  readonly reads: MainThreadReads;
  /** Numbers live previews; one that is no longer the latest is dropped. */
  previewSeq: number;
  /** A server warning for a final request (no face drawn), said with its "added" notice. */
  readonly warnings: Map<string, string>;
  connect(): void;
  onWelcome(w: Welcome): void;
  schedulePreview(delay?: number): void;
  setSeed(seed: number): void;
  /** The picked condition if this pack takes it, else shapes. */
  conditionKind(pack?: PackInfo | null): PickedCondition;
}
