// A cheap look at JSON text before JSON.parse: how deep it nests and how many values it holds.
// Parsing 2 MB of `[[[[…]]]]` takes ~0.3 s of the server's thread (measured), and 30 such frames
// at once held /health for seconds; this scan stops at the first bracket too deep, so a frame
// like that is refused in microseconds, and a whole 2 MB frame is scanned in ~7 ms.

export interface JsonShapeLimits {
  /** Deepest nesting of arrays and objects. */
  maxDepth: number;
  /** Most values in all arrays and objects together (commas and colons, counted). */
  maxItems: number;
}

/** Why `text` is too deep or too big to parse, or null when it is within `limits`. */
export function jsonShapeProblem(text: string, limits: JsonShapeLimits): string | null {
  let depth = 0;
  let items = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: the next character is escaped
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      if (++depth > limits.maxDepth) return `it nests deeper than ${limits.maxDepth} levels`;
    } else if (c === 93 || c === 125) depth--;
    else if (c === 44 || c === 58) {
      if (++items > limits.maxItems) return `it holds more than ${limits.maxItems} values`;
    }
  }
  return null;
}

/**
 * WebSocket messages: no field nests deeper than 3 (a condition, a restyle's class list), and
 * none holds more than a few dozen values (masks and photos travel as base64 strings).
 */
export const MESSAGE_SHAPE: JsonShapeLimits = { maxDepth: 8, maxItems: 1024 };
