// A 2-D context to draw masks and strokes on before reading their pixels back.

export type ScratchContext = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;

/** An offscreen canvas where the browser has one (the Figma iframe does), a detached <canvas> otherwise. */
export function scratchContext(size: number): ScratchContext {
  if (typeof OffscreenCanvas !== "undefined") {
    const ctx = new OffscreenCanvas(size, size).getContext("2d", { willReadFrequently: true });
    if (ctx) return ctx;
  }
  const canvas = document.createElement("canvas");
  canvas.width = size;
  canvas.height = size;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  if (!ctx) throw new Error("This browser cannot draw on a canvas.");
  return ctx;
}
