#!/usr/bin/env bash
# Debian's Chromium (and a CJK font, so screenshots show Chinese) for the browser tests.
# Playwright launches it by path: build machines cannot download Playwright's own browser.
# Best effort: without root (or sudo) it says what to run, and the browser tests skip.
set -euo pipefail

packages=()
command -v chromium >/dev/null 2>&1 || packages+=(chromium)
fc-list 2>/dev/null | grep -qiE "wqy|noto.*cjk" || packages+=(fonts-wqy-microhei)
if [ ${#packages[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  run=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  run=(sudo -n)
else
  echo "browser tests need: apt-get install ${packages[*]} (no root here; they will skip)" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "browser tests need Chromium at /usr/bin/chromium (no apt-get here; they will skip)" >&2
  exit 0
fi
echo "installing ${packages[*]} for the browser tests"
"${run[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null \
  || { "${run[@]}" apt-get update -qq \
       && "${run[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null; }
