// The Python that runs the training and evaluation code: the repo's own venv (made by
// scripts/test-all.sh from models/requirements.txt, with models/phototype_train installed editable),
// or PHOTOTYPE_PYTHON.
import { resolve } from "node:path";

export const PYTHON = process.env.PHOTOTYPE_PYTHON ?? resolve(import.meta.dirname, "../.venv/bin/python");
