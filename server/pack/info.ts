// What the protocol tells clients about a pack (welcome, GET /packs): names, classes with colours,
// conditions, and what it can do besides (from the networks it has).
import type { Capability, PackInfo } from "../../protocol/index.ts";
import { canReadPhotoLayout } from "../pipeline/photo-layout.ts";
import type { PackRuntime } from "../pipeline/runtime.ts";
import { sidePairsOf } from "../pipeline/side-pairs.ts";

export function packInfo(rt: PackRuntime): PackInfo {
  const { pack: { manifest: m }, runner } = rt;
  const capabilities: Capability[] = [];
  if (canReadPhotoLayout(rt)) capabilities.push("exemplar");
  if (runner.has("encoder") && runner.has("parser")) capabilities.push("edit");
  capabilities.push("restyle");
  return {
    name: m.name,
    title: m.title,
    version: m.version,
    quality: m.quality,
    license: m.license.name,
    resolution: m.resolution,
    conditions: m.conditions.map((c) => c.kind),
    classes: m.classes.map((c) => ({ id: c.id, name: c.name, label: c.label, color: c.color })),
    truncation: m.truncation,
    backgroundClass: m.classes.find((c) => c.name === "background")?.id ?? null,
    commercialUse: m.license.commercialUse,
    capabilities,
    sidePairs: sidePairsOf(m),
  };
}
