// Exposes the condition builder to a test page (its rasterizers need a real canvas).
import { edgesCondition, maskCondition, strokeCondition } from "../../../ui/session/condition.ts";

Object.assign(globalThis, { maskCondition, strokeCondition, edgesCondition });
