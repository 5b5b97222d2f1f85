// Every protocol error code, and every progress stage, in words a designer can act on.
// `Record<ErrorCode, …>` makes a code added to protocol/server-messages.ts a type error here until it has a sentence.
import type { ErrorCode, Progress } from "../../protocol/index.ts";

export const ERROR_SENTENCES: Record<ErrorCode, string> = {
  bad_json: "The plugin and the server misunderstood each other (the message was not readable). Update both to the same version.",
  bad_message: "The server did not accept the request; the plugin and the server may be different versions. Update both.",
  unknown_type: "The server does not know this kind of request; it is probably an older version. Update the server.",
  message_too_large: "The layout is too large to send to the server. Use a model pack with a smaller resolution.",
  unknown_pack: "The server does not have this model pack (any more). Pick another pack in settings.",
  unsupported_condition: "This model pack does not take this kind of drawing. Pick Shapes, or another pack in settings.",
  bad_mask_size: "The layout was drawn at a size this model pack does not take. Reconnect so the plugin learns the pack's size.",
  bad_class_id: "The layout uses a face part this model pack does not know. Recolour those shapes from the palette.",
  queue_full: "The server is busy with other requests. Wait a few seconds and press Generate again.",
  rate_limited: "Too many requests in a short time. Wait a moment and try again.",
  replaced: "A newer preview replaced this one.",
  cancelled: "Cancelled.",
  timeout: "The server took too long to make this image. Try fewer variations, or try again when it is less busy.",
  duplicate_id: "The plugin sent the same request twice. Press Generate again.",
  unknown_request: "The server no longer knows this request (it may have finished already).",
  internal: "The server ran into a problem making this image. Try again; if it keeps happening, check the server's log.",
  bad_image: "The server could not read that image. Use a PNG or JPEG photo placed in Figma, or press Generate again.",
  image_too_small: "The photo is too small for this model pack. Use a larger photo (at least the pack's size in pixels on its shorter side).",
  image_too_large: "The image is too large for the server to read. Use a smaller photo (up to 4096 × 4096 pixels).",
  no_face: "No face found in the photo. Use a portrait where the face fills most of the picture.",
  empty_condition: "Nothing is drawn yet. Draw a few strokes in the frame first.",
  empty_region: "The layout has none of the part you chose to restyle. Select shapes of a part that is in the picture.",
  unsupported_feature: "This model pack cannot do that (it lacks the network for it). Pick another pack in settings.",
  engine_unavailable: "The machine that makes the images for this server is not answering. Try again in a minute; if it keeps happening, tell whoever runs the server.",
  engine_timeout: "The machine that makes the images for this server is overloaded and answered too slowly. Try again in a moment.",
  unauthorized: "The server needs its pairing code, and the plugin has none or a wrong one. Type the code shown in the server's terminal.",
  forbidden_origin: "The server refused this plugin's connection. Start it as the Figma plugin expects (npx phototype serve) or check its allowed origins.",
  forbidden_host: "The server refused a request sent to another address than its own. Use ws://localhost:8787/ws (or the address it printed).",
  not_found: "The server has no such address. Check the server address in settings (it ends in /ws).",
};

/** Codes that are the expected outcome of something the UI did itself: no error for the user. */
export const QUIET_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(["replaced", "cancelled"]);

export function errorSentence(code: ErrorCode): string {
  return ERROR_SENTENCES[code] ?? "Something went wrong on the server.";
}

export function progressSentence(p: Pick<Progress, "stage" | "done" | "total" | "position">): string {
  const of = p.total > 1 ? ` (${Math.min(p.done + 1, p.total)} of ${p.total})` : "";
  switch (p.stage) {
    case "queued":
      return p.position ? `Waiting for the server: ${p.position} request${p.position === 1 ? "" : "s"} ahead` : "Waiting for the server";
    case "reading":
      return "Reading the photo";
    case "tracing":
      return "Turning the photo's layout into shapes";
    case "mapping":
      return "Reading your layout";
    case "generating":
      return `Painting the face${p.total > 1 ? "s" : ""}${of}`;
    case "encoding":
      return `Finishing the image${p.total > 1 ? "s" : ""}`;
  }
}

/** 0..1 for a progress bar: each stage gets a slice, generation moves with images done. */
export function progressFraction(p: Pick<Progress, "stage" | "done" | "total">): number {
  switch (p.stage) {
    case "queued":
      return 0.05;
    case "reading":
      return 0.1;
    case "tracing":
      return 0.6;
    case "mapping":
      return 0.15;
    case "generating":
      return 0.2 + 0.7 * (p.done / p.total);
    case "encoding":
      return 0.92;
  }
}

export const CONNECTION_SENTENCES = {
  droppedDuringRequest: "The connection to the server dropped while making your image, so nothing was added. It reconnects by itself; press Generate again then.",
  notConnected: "Not connected to the server, so nothing was made. Start it (npx phototype serve) or check the address in settings.",
  noPack: "The server has no model pack loaded. Add one to its packs folder and restart it.",
  protocolMismatch: "The server speaks a different version of the protocol. Update the plugin and the server to the same version.",
  stalled: "The server stopped answering this request, so nothing was added. Press Generate to try again.",
  unauthorized: "The server needs its pairing code, and the plugin has none or a wrong one. Type the code shown in the server's terminal.",
} as const;
