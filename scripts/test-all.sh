#!/usr/bin/env bash
# Sets up a fresh Debian machine for the tests, then runs all of them:
# typecheck, vitest (server, plugin, UI in headless Chromium) and pytest (training code).
set -euo pipefail
cd "$(dirname "$0")/.."

apt_pkgs=()
/usr/bin/python3 -c "import torch, torchvision, onnx, sklearn, PIL, pytest, cv2, jsonschema, scipy" 2>/dev/null ||
  apt_pkgs+=(python3-torch python3-torchvision python3-onnx python3-sklearn python3-pil python3-pytest
             python3-opencv python3-jsonschema python3-scipy)
[ -x /usr/bin/chromium ] || apt_pkgs+=(chromium)
if [ ${#apt_pkgs[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  echo "installing Debian packages: ${apt_pkgs[*]}"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${apt_pkgs[@]}"
fi

# onnxruntime-node's install script would fetch CUDA files; the CPU build ships in the package.
ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
npm run build
npx tsc --noEmit -p tsconfig.json
npx vitest run
(cd models/train && /usr/bin/python3 -m pytest -q)
echo "all tests passed"
