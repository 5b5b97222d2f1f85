// Exposes the mask rasterizer to a test page.
import { rasterizeMask, UNCOVERED } from "../../../ui/lib/rasterize.ts";

Object.assign(globalThis, { rasterizeMask, UNCOVERED });
