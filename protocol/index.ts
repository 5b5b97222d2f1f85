// The wire protocol between the plugin UI and the server: one module, imported by both (ui/ and
// server/ import this folder; neither imports the other). JSON text frames; binary payloads (masks,
// PNGs) travel as base64 strings (see docs/ARCHITECTURE.md for the measurement behind that
// choice). Every request carries an id that its answers repeat.
export * from "./limits.ts";
export * from "./conditions.ts";
export * from "./client-messages.ts";
export * from "./server-messages.ts";
export * from "./http.ts";
export * from "./parse.ts";
export * from "./json-shape.ts";
export * from "./base64.ts";
