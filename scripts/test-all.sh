#!/usr/bin/env bash
# Sets up a fresh Debian machine for the tests, then runs all of them:
# typecheck, vitest (server, plugin, UI in headless Chromium, the engine-backed server against a
# real Ray Serve engine on loopback) and pytest (training code).
set -euo pipefail
cd "$(dirname "$0")/.."

# Headless Chromium for the UI tests (Debian's package; playwright-core drives it).
if [ ! -x /usr/bin/chromium ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  echo "installing Debian's chromium"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q chromium
fi

# The training and evaluation code's pinned Python packages, in a git-ignored venv, and the code
# itself (models/phototype_train) installed editable, so `python -m phototype_train` runs from anywhere.
req=models/requirements.txt
if [ ! -x .venv/bin/python ] || ! cmp -s "$req" .venv/requirements.installed || ! .venv/bin/python -c "import phototype_train" 2>/dev/null; then
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r "$req"
  .venv/bin/pip install -q --disable-pip-version-check -e models
  cp "$req" .venv/requirements.installed
fi

# The serving engine's pinned packages (Ray Serve + ONNX Runtime), in a second git-ignored venv:
# test/server/engine.test.ts starts a real engine from it on loopback.
req=engine/requirements.txt
if [ ! -x .venv-engine/bin/python ] || ! cmp -s "$req" .venv-engine/requirements.installed; then
  python3 -m venv .venv-engine
  .venv-engine/bin/pip install -q --disable-pip-version-check -r "$req"
  cp "$req" .venv-engine/requirements.installed
fi

# .npmrc keeps dependencies' install scripts from running (no CUDA download; the CPU build ships).
npm ci --no-audit --no-fund
npm run build
npx tsc --noEmit -p tsconfig.json
npx vitest run
(cd models && ../.venv/bin/python -m pytest -q)
echo "all tests passed"
