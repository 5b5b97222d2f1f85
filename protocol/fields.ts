// Field schemas the message schemas share: ids, seeds, base64 payloads, photos.
import { Type } from "@sinclair/typebox";
import { MAX_MESSAGE_BYTES, MAX_SEED } from "./limits.ts";

export const Id = Type.String({ minLength: 1, maxLength: 64 });
export const Seed = Type.Integer({ minimum: 0, maximum: MAX_SEED });
export const Base64 = (maxLength: number) => Type.String({ maxLength, pattern: "^[A-Za-z0-9+/]*={0,2}$" });

/** A photo (base64 PNG, any size at least the pack's resolution; its centre square is used). */
export const Photo = Base64(MAX_MESSAGE_BYTES);
