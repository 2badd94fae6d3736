#!/usr/bin/env bash
# Tools the tests use beyond Python packages: axe-core (the accessibility checker the browser
# tests run inside Chromium), pinned, from the npm registry into .test-tools/ (not committed).
set -euo pipefail
cd "$(dirname "$0")/.."
AXE_VERSION=4.14.1
if [ -f .test-tools/node_modules/axe-core/axe.min.js ] \
   && grep -q "\"version\": \"$AXE_VERSION\"" .test-tools/node_modules/axe-core/package.json; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm
fi
mkdir -p .test-tools
npm install --prefix .test-tools --silent --no-audit --no-fund --no-save "axe-core@$AXE_VERSION"
