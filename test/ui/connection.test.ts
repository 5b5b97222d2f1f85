import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PROTOCOL_VERSION, type Welcome } from "../../protocol/index.ts";
import { ServerConnection, type ConnectionState } from "../../ui/connection.ts";

class FakeSocket {
  static made: FakeSocket[] = [];
  readyState = 0;
  sent: string[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.made.push(this);
  }
  send(text: string) {
    this.sent.push(text);
  }
  close() {
    this.readyState = 3;
  }
  // server side
  serverOpens() {
    this.readyState = 1;
    this.onopen?.();
  }
  serverSays(msg: unknown) {
    this.onmessage?.({ data: typeof msg === "string" ? msg : JSON.stringify(msg) });
  }
  serverCloses(code = 1006, reason = "") {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}

const welcome: Welcome = { type: "welcome", protocol: PROTOCOL_VERSION, server: "test", provider: "cpu", defaultPack: null, packs: [] };

function setup(random = () => 0) {
  const states: ConnectionState[] = [];
  const drops: string[] = [];
  const messages: unknown[] = [];
  const protocolErrors: string[] = [];
  const conn = new ServerConnection(
    { url: "ws://localhost:8787/ws", token: "tok", random, WebSocketImpl: FakeSocket as unknown as typeof WebSocket },
    {
      onState: (s) => states.push(s),
      onMessage: (m) => messages.push(m),
      onDrop: (r) => drops.push(r),
      onProtocolError: (m) => protocolErrors.push(m),
    },
  );
  return { conn, states, drops, messages, protocolErrors };
}

describe("server connection", () => {
  beforeEach(() => {
    FakeSocket.made = [];
    vi.useFakeTimers();
  });
  afterEach(() => vi.useRealTimers());

  it("connects with the token and is open after the welcome", () => {
    const { conn, states, messages } = setup();
    conn.start();
    expect(FakeSocket.made[0].url).toBe("ws://localhost:8787/ws?token=tok");
    expect(conn.current.status).toBe("connecting");
    expect(conn.send({ type: "cancel", id: "x" })).toBe(false);
    FakeSocket.made[0].serverOpens();
    FakeSocket.made[0].serverSays(welcome);
    expect(conn.current.status).toBe("open");
    expect(states.map((s) => s.status)).toEqual(["connecting", "open"]);
    expect(messages).toHaveLength(1);
    expect(conn.send({ type: "cancel", id: "x" })).toBe(true);
    expect(JSON.parse(FakeSocket.made[0].sent[0])).toEqual({ type: "cancel", id: "x" });
  });

  it("retries with growing delays while the server is down, without reporting lost requests", () => {
    const { conn, drops } = setup(() => 0);
    conn.start();
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      FakeSocket.made.at(-1)!.serverCloses(1006);
      const s = conn.current;
      expect(s.status).toBe("waiting");
      if (s.status === "waiting") waits.push(s.retryAt - Date.now());
      const before = FakeSocket.made.length;
      vi.advanceTimersByTime(waits.at(-1)! - 1);
      expect(FakeSocket.made.length).toBe(before);
      vi.advanceTimersByTime(1);
      expect(FakeSocket.made.length).toBe(before + 1);
    }
    expect(waits).toEqual([250, 500, 1000, 2000]);
    expect(drops).toEqual([]);
  });

  it("reports a drop after the welcome, reconnects, and starts the backoff over", () => {
    const { conn, drops } = setup(() => 0);
    conn.start();
    FakeSocket.made[0].serverCloses();
    vi.advanceTimersByTime(250);
    FakeSocket.made[1].serverOpens();
    FakeSocket.made[1].serverSays(welcome);
    FakeSocket.made[1].serverCloses(1001, "server restarting");
    expect(drops).toEqual(["The server closed the connection: server restarting"]);
    const s = conn.current;
    expect(s.status === "waiting" && s.retryAt - Date.now()).toBe(250);
  });

  it("says when a request was too large for the server", () => {
    const { conn } = setup();
    conn.start();
    FakeSocket.made[0].serverOpens();
    FakeSocket.made[0].serverSays(welcome);
    FakeSocket.made[0].serverCloses(1009, "message_too_large: ...");
    const s = conn.current;
    expect(s.status === "waiting" && s.reason).toMatch(/too large/);
  });

  it("retries at once on request, and not at all once stopped", () => {
    const { conn } = setup(() => 0.5);
    conn.start();
    FakeSocket.made[0].serverCloses();
    conn.retryNow();
    expect(FakeSocket.made).toHaveLength(2);
    conn.stop("bye");
    FakeSocket.made[1].serverCloses();
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.made).toHaveLength(2);
    expect(conn.current).toMatchObject({ status: "stopped", reason: "bye" });
  });

  it("reports frames that break the protocol after the welcome and stays connected", () => {
    const { conn, protocolErrors, messages } = setup();
    conn.start();
    FakeSocket.made[0].serverOpens();
    FakeSocket.made[0].serverSays(welcome);
    FakeSocket.made[0].serverSays("{nope");
    FakeSocket.made[0].serverSays({ type: "image", id: "x" });
    expect(protocolErrors).toHaveLength(2);
    expect(messages).toHaveLength(1);
    expect(conn.current.status).toBe("open");
  });

  it("hangs up on a server speaking another protocol version, says so, and keeps retrying", () => {
    const { conn, drops } = setup(() => 0);
    conn.start();
    const s0 = FakeSocket.made[0];
    s0.close = () => s0.serverCloses(1002); // the browser then reports the close
    s0.serverOpens();
    s0.serverSays({ ...welcome, protocol: 99 });
    const s = conn.current;
    expect(s.status).toBe("waiting");
    expect(s.status === "waiting" && s.reason).toMatch(/different protocol version/);
    expect(drops).toEqual([]);
    vi.advanceTimersByTime(250);
    expect(FakeSocket.made).toHaveLength(2);
  });

  it("stops and asks for the pairing code when the server refuses it (error, then close 4401); no retries", () => {
    const { conn, drops, messages } = setup(() => 0);
    conn.start();
    const s0 = FakeSocket.made[0];
    s0.serverOpens();
    s0.serverSays({ type: "error", code: "unauthorized", message: "This server needs its pairing code." });
    s0.serverCloses(4401, "unauthorized");
    const s = conn.current;
    expect(s).toMatchObject({ status: "stopped", needsCode: true, reason: expect.stringMatching(/not this server's/) }); // setup() gives a token
    expect(messages).toEqual([]);
    expect(drops).toEqual([]);
    // Retrying a wrong code would only spend the server's guess limit.
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.made).toHaveLength(1);
  });

  it("a close code 4401 alone says the same, and so does rate_limited (the right code is never refused): no retries", () => {
    const first = setup(() => 0);
    first.conn.start();
    FakeSocket.made[0].serverCloses(4401, "");
    expect(first.conn.current).toMatchObject({ status: "stopped", needsCode: true });
    first.conn.stop();

    FakeSocket.made.length = 0;
    const { conn } = setup(() => 0);
    conn.start();
    const s0 = FakeSocket.made[0];
    s0.serverOpens();
    s0.serverSays({ type: "error", code: "rate_limited", message: "Too many wrong pairing codes were tried in the last minute" });
    s0.serverCloses(4401, "rate_limited");
    expect(conn.current).toMatchObject({ status: "stopped", needsCode: true, reason: expect.stringMatching(/not this server's.*trying many wrong codes/) });
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.made).toHaveLength(1);
  });
});
