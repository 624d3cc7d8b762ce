#!/usr/bin/env bash
# One-time set-up on a fresh Debian/Ubuntu machine with Node.js >= 20: the headless Chromium that exports
# figures to PNG/SVG, Jupyter with nbconvert (for the tslab kernel; optional: LSO_SKIP_JUPYTER=1), then the
# npm packages (whose `prepare` step builds the library and links it for the notebooks).
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

need=()
command -v chromium >/dev/null 2>&1 || [ -n "${LSO_CHROMIUM:-}" ] || need+=(chromium fonts-liberation)
if [ "${LSO_SKIP_JUPYTER:-0}" != "1" ]; then
  command -v jupyter-nbconvert >/dev/null 2>&1 || need+=(jupyter-nbconvert python3-ipykernel jupyter-notebook)
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: apt-get install ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

node -e 'const [a]=process.versions.node.split(".").map(Number); if (a < 20) { console.error("setup: Node.js >= 20 is needed, found " + process.version); process.exit(1); }'
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
echo "setup: done"
