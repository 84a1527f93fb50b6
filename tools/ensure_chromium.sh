#!/usr/bin/env bash
# Installs Debian's chromium (and a font, so text renders) for the call-story page test, once.
# Idempotent: does nothing when chromium and a font are already there. Needs root (CI runs as root).
set -euo pipefail
have_chromium() { command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; }
have_font() { command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list 2>/dev/null | head -n 1)" ]; }
if have_chromium && have_font; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "chromium is missing; as root: apt-get update && apt-get install -y chromium fonts-dejavu-core" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core fontconfig >/dev/null
have_chromium
