// Exposes the mask and stroke rasterizers to a test page.
import { rasterizeMask, UNCOVERED } from "../../../ui/lib/rasterize.ts";
import { rasterizeStrokes, strokeWidth } from "../../../ui/lib/strokes.ts";

Object.assign(globalThis, { rasterizeMask, UNCOVERED, rasterizeStrokes, strokeWidth });
