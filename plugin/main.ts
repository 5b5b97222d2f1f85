// Figma main-thread entry (bundled to dist/plugin.js). `__html__` is the manifest's `ui` file.
import { startPlugin } from "./controller.ts";

startPlugin(__html__);
