// What the protocol tells clients about a pack (welcome, GET /packs): names, classes with colours,
// conditions, and what it can do besides (from the networks it has).
import type { Capability, PackInfo } from "../../protocol/index.ts";
import type { PackRuntime } from "../pipeline/runtime.ts";
import { sidePairsOf } from "../pipeline/side-pairs.ts";

export function packInfo({ pack: { manifest: m }, runner }: PackRuntime): PackInfo {
  const capabilities: Capability[] = [];
  if (runner.has("encoder")) capabilities.push("exemplar");
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
