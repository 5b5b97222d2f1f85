// The main thread's wiring: selection → target frame, messages from the UI, live-preview
// triggers. Everything that touches `figma` is here or in the small modules it calls.
import type { FrameInfo, FrameProblem, MainToUi, UiToMain } from "./messages.ts";
import { frameInfo, photoLinkOf } from "./frame-info.ts";
import { readFrame } from "./read-shapes.ts";
import { readStrokes } from "./read-strokes.ts";
import { insertBeside, insertResults } from "./insert-results.ts";
import { createLayoutFrame } from "./layout-frame.ts";
import { exportPhoto, findPhoto } from "./photo-source.ts";
import { addClassShape, recolour, recolourTargets } from "./palette-edit.ts";
import { resolveTarget, type TargetFrame } from "./target-frame.ts";
import { isRelevantChange } from "./watch.ts";

export const UI_SIZE = { width: 360, height: 700 };

function emit(message: MainToUi): void {
  figma.ui.postMessage(message);
}

export interface PluginHandle {
  /** Resolves when the last handled message's async work is done (tests wait on it). */
  idle(): Promise<void>;
}

export function startPlugin(html: string): PluginHandle {
  figma.showUI(html, { ...UI_SIZE, themeColors: true, title: "Phototype" });

  // The frame the user last pointed at. Kept while nothing is selected, so clicking on empty
  // canvas does not lose it; dropped when the selection points elsewhere or the frame is deleted.
  let targetId: string | null = null;
  let live = false;
  let readIds = new Set<string>();
  const ownIds = new Set<string>();
  let watchedPage: PageNode | null = null;
  let lastProblem: FrameProblem | null = null;
  let pending: Promise<void> = Promise.resolve();

  async function target(): Promise<TargetFrame | null> {
    if (!targetId) return null;
    const node = await figma.getNodeByIdAsync(targetId);
    if (!node || node.removed || (node.type !== "FRAME" && node.type !== "COMPONENT")) {
      targetId = null;
      return null;
    }
    return node;
  }

  /** frameInfo plus the photo link of an edit frame, checked against the document (async). */
  async function describe(frame: TargetFrame): Promise<FrameInfo> {
    const info = frameInfo(frame);
    const link = photoLinkOf(frame);
    if (!link) return { ...info, source: null };
    const photo = await figma.getNodeByIdAsync(link.nodeId);
    return { ...info, source: { ...link, present: !!photo && !photo.removed } };
  }

  async function reportSelection(): Promise<void> {
    const selection = figma.currentPage.selection;
    let problem: FrameProblem | null = null;
    if (selection.length > 0) {
      const resolved = resolveTarget(selection);
      targetId = resolved.frame ? resolved.frame.id : null;
      problem = resolved.problem;
    }
    const frame = await target();
    if (!frame && !problem) problem = resolveTarget([]).problem;
    lastProblem = problem;
    emit({
      type: "selection",
      frame: frame ? await describe(frame) : null,
      problem,
      selectedShapes: frame ? recolourTargets(frame, selection).length : 0,
    });
  }

  function onNodeChange(event: NodeChangeEvent): void {
    const state = { frameId: targetId, readIds, ownIds };
    if (event.nodeChanges.some((c) => isRelevantChange(c, state))) emit({ type: "frame-changed" });
  }

  function watchPage(on: boolean): void {
    if (watchedPage) watchedPage.off("nodechange", onNodeChange);
    watchedPage = on ? figma.currentPage : null;
    if (watchedPage) watchedPage.on("nodechange", onNodeChange);
  }

  async function handle(msg: UiToMain): Promise<void> {
    switch (msg.type) {
      case "ui-ready":
        await reportSelection();
        return;
      case "read-frame": {
        const frame = await target();
        if (!frame) {
          const problem = lastProblem ?? { code: "frame_gone", message: "The frame was deleted. Select a frame." };
          emit({ type: "frame-read", token: msg.token, result: { ok: false, problem } });
          return;
        }
        const result = readFrame(frame);
        if (result.ok) {
          readIds = new Set(result.snapshot.shapes.map((s) => s.id));
          result.snapshot.frame = await describe(frame);
          const inFrame = new Set(result.snapshot.shapes.map((s) => s.id));
          result.snapshot.selectedIds = figma.currentPage.selection.map((n) => n.id).filter((id) => inFrame.has(id));
        }
        emit({ type: "frame-read", token: msg.token, result });
        return;
      }
      case "read-strokes": {
        const frame = await target();
        if (!frame) {
          const problem = lastProblem ?? { code: "frame_gone", message: "The frame was deleted. Select a frame." };
          emit({ type: "strokes-read", token: msg.token, result: { ok: false, problem } });
          return;
        }
        const result = readStrokes(frame);
        if (result.ok) readIds = new Set(result.snapshot.strokes.map((s) => s.id));
        emit({ type: "strokes-read", token: msg.token, result });
        return;
      }
      case "read-photo": {
        let node: SceneNode | null = null;
        if (msg.nodeId) {
          const found = await figma.getNodeByIdAsync(msg.nodeId);
          if (!found || found.removed || !("exportAsync" in found)) {
            emit({ type: "photo-read", token: msg.token, result: { ok: false, problem: { code: "photo_gone", message: "The photo this frame was made from is gone (deleted or on another page)." } } });
            return;
          }
          node = found as SceneNode;
        } else {
          const found = findPhoto(figma.currentPage.selection, await target());
          if (!found.node) {
            emit({ type: "photo-read", token: msg.token, result: { ok: false, problem: found.problem } });
            return;
          }
          node = found.node;
        }
        emit({ type: "photo-read", token: msg.token, result: await exportPhoto(node, msg.maxSide) });
        return;
      }
      case "create-layout": {
        const photo = await figma.getNodeByIdAsync(msg.photoNodeId);
        if (!photo || photo.removed || !("absoluteTransform" in photo)) {
          emit({ type: "layout-failed", requestId: msg.requestId, message: "The photo is gone, so no layout was added. Select it again and click Edit this photo." });
          return;
        }
        try {
          const frame = createLayoutFrame(photo as SceneNode, msg.resolution, msg.shapes, msg.classes, msg.background, () => {});
          targetId = frame.id;
          emit({ type: "layout-created", requestId: msg.requestId, frameId: frame.id, name: frame.name, shapes: frame.children.length });
        } catch (err) {
          emit({ type: "layout-failed", requestId: msg.requestId, message: `Figma could not add the layout (${err instanceof Error ? err.message : String(err)}). Nothing was added.` });
        }
        return;
      }
      case "live":
        live = msg.on;
        watchPage(live);
        return;
      case "insert": {
        if (msg.target?.kind === "beside") {
          const node = await figma.getNodeByIdAsync(msg.target.id);
          if (!node || node.removed || !("absoluteTransform" in node)) {
            emit({ type: "insert-failed", requestId: msg.requestId, message: "The photo these images were made from is gone, so nothing was added." });
            return;
          }
          try {
            const nodes = insertBeside(node as SceneNode, msg.images, (n) => ownIds.add(n.id));
            emit({ type: "inserted", requestId: msg.requestId, count: nodes.length, names: nodes.map((n) => n.name), placement: "beside" });
          } catch (err) {
            emit({ type: "insert-failed", requestId: msg.requestId, message: `Figma could not add the image (${err instanceof Error ? err.message : String(err)}). Nothing was added.` });
          }
          return;
        }
        const frameId = msg.target?.id ?? msg.frameId;
        if (frameId) targetId = frameId;
        const frame = await target();
        if (!frame) {
          emit({ type: "insert-failed", requestId: msg.requestId, message: "The frame these images were made for is gone, so nothing was added. Select a frame and try again." });
          return;
        }
        try {
          const nodes = insertResults(frame, msg.images, (n) => ownIds.add(n.id));
          emit({ type: "inserted", requestId: msg.requestId, count: nodes.length, names: nodes.map((n) => n.name), placement: "frame" });
        } catch (err) {
          emit({ type: "insert-failed", requestId: msg.requestId, message: `Figma could not add the image (${err instanceof Error ? err.message : String(err)}). Nothing was added.` });
        }
        return;
      }
      case "apply-class": {
        const frame = await target();
        if (!frame) {
          emit({ type: "class-failed", message: "Select a frame first; the palette adds shapes to it or recolours the shapes you selected in it." });
          return;
        }
        const shapes = recolourTargets(frame, figma.currentPage.selection);
        if (shapes.length > 0) {
          recolour(shapes, msg.color, msg.paint);
          emit({ type: "class-applied", action: "recoloured", count: shapes.length, label: msg.label });
        } else if (msg.paint === "stroke") {
          emit({ type: "class-failed", message: `Draw a stroke in the frame with the pen (P), select it, then click ${msg.label} to colour it.` });
        } else {
          addClassShape(frame, msg.label, msg.color);
          emit({ type: "class-applied", action: "added", count: 1, label: msg.label });
        }
        return;
      }
      case "load":
        emit({ type: "loaded", key: msg.key, value: (await figma.clientStorage.getAsync(msg.key)) ?? null });
        return;
      case "save":
        await figma.clientStorage.setAsync(msg.key, msg.value);
        return;
    }
  }

  figma.ui.onmessage = (msg: UiToMain) => {
    pending = pending.then(() => handle(msg)).catch((err) => console.error("phototype:", err));
  };
  figma.on("selectionchange", () => {
    pending = pending.then(reportSelection).catch((err) => console.error("phototype:", err));
  });
  figma.on("currentpagechange", () => {
    targetId = null;
    if (live) watchPage(true);
    pending = pending.then(reportSelection).catch((err) => console.error("phototype:", err));
  });

  return { idle: () => pending };
}
