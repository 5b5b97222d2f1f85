// Which classes are one face part on two sides (eyes, brows, ears), as sides.ts needs them: from
// pack.json's `sidePairs`, or, for a pack without it, from classes named l_X and r_X, read the way
// CelebAMask-HQ names them (l_ is the person's left, on the image's right). Checked at pack load.
import type { PackClass, PackManifest } from "../pack/schema.ts";
import type { SideIds, SideRules } from "./sides.ts";

/** Classes whose mean column is the face's midline, tried in order (sides.ts says why). */
export const MIDLINE_CLASS_NAMES = ["nose", "skin"] as const;

type PairSource = Pick<PackManifest, "classes" | "sidePairs">;

/** "l_eye" -> "Eye", "l_lower_lid" -> "Lower lid". */
function partLabel(rest: string): string {
  const words = rest.replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Pairs by class name: declared, or every l_X that has an r_X. */
function namedPairs(m: PairSource): { label: string; imageLeft: string; imageRight: string }[] {
  if (m.sidePairs) return m.sidePairs;
  const names = new Set(m.classes.map((c) => c.name));
  return m.classes
    .filter((c) => c.name.startsWith("l_") && names.has(`r_${c.name.slice(2)}`))
    .map((c) => ({ label: partLabel(c.name.slice(2)), imageLeft: `r_${c.name.slice(2)}`, imageRight: c.name }));
}

/** What is wrong with the pack's side pairs, or null: unknown classes, a pair of one class, a class in two pairs. */
export function sidePairProblem(m: PairSource): string | null {
  const names = new Set(m.classes.map((c) => c.name));
  const used = new Set<string>();
  for (const p of namedPairs(m)) {
    if (p.imageLeft === p.imageRight) return `side pair ${p.label} has the same class on both sides`;
    for (const n of [p.imageLeft, p.imageRight]) {
      if (!names.has(n)) return `side pair ${p.label} names class ${n}, which the pack does not have`;
      if (used.has(n)) return `class ${n} is in more than one side pair`;
      used.add(n);
    }
  }
  return null;
}

/** The pack's side pairs as class ids (pairs naming unknown classes are left out; the registry refuses those packs). */
export function sidePairsOf(m: PairSource): SideIds[] {
  const ids = new Map(m.classes.map((c) => [c.name, c.id]));
  return namedPairs(m).flatMap((p) => {
    const left = ids.get(p.imageLeft), right = ids.get(p.imageRight);
    return left === undefined || right === undefined ? [] : [{ label: p.label, imageLeft: left, imageRight: right }];
  });
}

function anchorsOf(classes: readonly PackClass[]): Set<number>[] {
  return MIDLINE_CLASS_NAMES.flatMap((name) => {
    const c = classes.find((k) => k.name === name);
    return c ? [new Set([c.id])] : [];
  });
}

const cache = new WeakMap<PairSource, SideRules>();

/** Everything sides.ts needs for the pack, worked out once per manifest. */
export function sideRulesOf(m: PairSource): SideRules {
  let rules = cache.get(m);
  if (!rules) cache.set(m, (rules = { pairs: sidePairsOf(m), anchors: anchorsOf(m.classes) }));
  return rules;
}
