// The UI's WebSocket to the server: connects, parses frames with the shared protocol module,
// and reconnects by itself with exponential backoff after any close.
import { CLOSE_UNAUTHORIZED, parseServerMessage, type ClientMessage, type ServerMessage, type Welcome, WS_PATH } from "../protocol/index.ts";
import { reconnectDelay } from "./lib/backoff.ts";

export type ConnectionState =
  | { status: "connecting"; url: string; attempt: number }
  | { status: "open"; url: string; welcome: Welcome }
  | { status: "waiting"; url: string; attempt: number; retryAt: number; reason: string }
  /** `needsCode`: the server refused the pairing code (none, or a wrong one); it waits for the person. */
  | { status: "stopped"; url: string; reason: string; needsCode?: boolean };

export interface ConnectionEvents {
  onState(state: ConnectionState): void;
  onMessage(message: ServerMessage): void;
  /** The socket closed: requests in flight are lost. */
  onDrop(reason: string): void;
  /** The server sent something the protocol does not allow. */
  onProtocolError(message: string): void;
}

export interface ConnectionOptions {
  url: string;
  token: string;
  random?: () => number;
  WebSocketImpl?: typeof WebSocket;
}

/** The address with the pairing code as `?token=` (a browser cannot set headers on a WebSocket). */
export function socketUrl(url: string, token: string): string {
  if (!token) return url;
  return `${url}${url.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}`;
}

/** Checks an address a designer typed; returns a sentence when it cannot work. */
export function checkServerUrl(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `“${url}” is not an address. It looks like ws://localhost:8787${WS_PATH}.`;
  }
  if (parsed.protocol !== "ws:" && parsed.protocol !== "wss:") return `The address must start with ws:// (or wss:// for a remote server), like ws://localhost:8787${WS_PATH}.`;
  return null;
}

/** Said when a server refuses our pairing code (error "unauthorized", then close CLOSE_UNAUTHORIZED). */
export const UNAUTHORIZED_REASON = "The server needs its pairing code.";
export const WRONG_CODE_REASON = "The pairing code saved in the plugin is not this server's.";
const WRONG_CODE_WHILE_GUESSED = `${WRONG_CODE_REASON} Something is also trying many wrong codes on this server: close web pages you do not know.`;

function closeReason(ev: CloseEvent): string {
  if (ev.code === 1009) return "The last request was too large for the server.";
  if (ev.code === 1013) return "The connection fell behind and the server closed it.";
  if (ev.reason) return `The server closed the connection: ${ev.reason}`;
  return "";
}

export class ServerConnection {
  private socket: WebSocket | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private state: ConnectionState;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly events: ConnectionEvents,
  ) {
    this.state = { status: "connecting", url: options.url, attempt: 0 };
  }

  get current(): ConnectionState {
    return this.state;
  }

  start(): void {
    this.stopped = false;
    this.open();
  }

  /** Closes for good (settings changed, plugin closing). */
  stop(reason = "Disconnected."): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const s = this.socket;
    this.socket = null;
    if (s) {
      s.onopen = s.onmessage = s.onclose = s.onerror = null;
      s.close(1000);
    }
    this.setState({ status: "stopped", url: this.options.url, reason });
  }

  /** Skip the wait and try now (the "Retry now" button). */
  retryNow(): void {
    if (this.state.status !== "waiting") return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.open();
  }

  /** Sends when open; returns false (and sends nothing) otherwise. */
  send(message: ClientMessage): boolean {
    if (!this.socket || this.state.status !== "open" || this.socket.readyState !== 1) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  private setState(state: ConnectionState): void {
    this.state = state;
    this.events.onState(state);
  }

  private open(): void {
    const Impl = this.options.WebSocketImpl ?? WebSocket;
    this.setState({ status: "connecting", url: this.options.url, attempt: this.attempt });
    let socket: WebSocket;
    try {
      socket = new Impl(socketUrl(this.options.url, this.options.token));
    } catch (err) {
      this.stop(`The server address cannot be used: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    this.socket = socket;
    let welcomed = false;
    let refused = "";
    let needsCode = false;
    socket.onmessage = (ev) => {
      if (typeof ev.data !== "string") return this.events.onProtocolError("The server sent binary data, which this plugin does not read.");
      const parsed = parseServerMessage(ev.data);
      if (!parsed.ok) {
        if (!welcomed) {
          // Not our protocol (another version, or not a Phototype server): hang up and keep retrying slowly.
          refused = "The server speaks a different protocol version; update the plugin and the server to the same version.";
          socket.close(1002);
          return;
        }
        return this.events.onProtocolError(parsed.message);
      }
      const msg = parsed.value;
      if (!welcomed && msg.type === "error" && (msg.code === "unauthorized" || msg.code === "rate_limited")) {
        // The close that follows carries no more than this. Either way the code needs the person:
        // the server never refuses the right code, so rate_limited means ours is wrong too (and
        // something else is guessing); waiting it out would never connect.
        needsCode = true;
        refused = !this.options.token ? UNAUTHORIZED_REASON : msg.code === "rate_limited" ? WRONG_CODE_WHILE_GUESSED : WRONG_CODE_REASON;
        return;
      }
      if (msg.type === "welcome") {
        welcomed = true;
        this.attempt = 0;
        this.setState({ status: "open", url: this.options.url, welcome: msg });
      }
      this.events.onMessage(msg);
    };
    socket.onclose = (ev) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (ev.code === CLOSE_UNAUTHORIZED && !refused) {
        needsCode = true;
        refused = this.options.token ? WRONG_CODE_REASON : UNAUTHORIZED_REASON;
      }
      const reason = refused || closeReason(ev);
      if (welcomed) this.events.onDrop(reason || "The connection to the server closed.");
      if (this.stopped) return;
      if (needsCode) {
        // Retrying cannot help, and each wrong try counts against the server's guess limit.
        this.stopped = true;
        this.setState({ status: "stopped", url: this.options.url, reason, needsCode: true });
        return;
      }
      const delay = reconnectDelay(this.attempt, this.options.random);
      this.attempt++;
      this.setState({
        status: "waiting",
        url: this.options.url,
        attempt: this.attempt,
        retryAt: Date.now() + delay,
        reason: reason || (welcomed ? "The server went away." : "Can't connect: the server is not running."),
      });
      this.timer = setTimeout(() => {
        this.timer = null;
        this.open();
      }, delay);
    };
    socket.onerror = () => {
      // Always followed by close, which carries what we can tell.
    };
  }
}
