#!/usr/bin/env bash
# Install the Debian/Ubuntu packages TPS Relay needs, only those that are missing.
set -euo pipefail
packages=(redis-server python3-venv)
# Photos of tally forms: tesseract reads the printed header, libzbar0 the QR code (pyzbar).
packages+=(tesseract-ocr tesseract-ocr-eng tesseract-ocr-ind libzbar0)
# `make test` adds Debian's chromium for the browser tests (Playwright drives /usr/bin/chromium)
# and pgbouncer for the test of the app behind a transaction-pooling PgBouncer.
[ "${1:-}" = "--with-browser" ] && packages+=(chromium pgbouncer)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
# python3-venv is only needed when this Python cannot make a venv with pip in it.
if python3 -c "import ensurepip, venv" 2>/dev/null; then
  missing=("${missing[@]/python3-venv}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing system packages: ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
