#!/usr/bin/env bash
# Regenerates docs/tray-qt.png: the desktop tray (backline-tray-qt) on a private X server with a
# tray host, as its GUI test drives it against a real server — the offer pending after the
# server's restart (in Chinese) with its tray notification, and the accepted thread with the
# messages of Danish, Chinese and Lithuanian written across the restart.
#
#   scripts/tray-screenshot.sh      build, run the test, write docs/tray-qt.png
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=true

ensure_packages "${BACKLINE_SCREENSHOT_PACKAGES[@]}"
log "building the tray and its test"
build_backline build -DBACKLINE_BUILD_TESTS=ON -- gui_tests
shot=$(mktemp /tmp/backline-tray-shot.XXXXXX)
trap 'rm -f "$shot"' EXIT
log "running the tray's test, with a screenshot"
BACKLINE_TRAY_SCREENSHOT="png:$shot" build/bin/gui_tests \
  --gtest_filter='TrayQtTest.WithATrayHost*' >/dev/null
# The window (top left) and the tray with its notification (top right); no black below.
convert "png:$shot" -crop 1024x645+0+0 +repage -strip docs/tray-qt.png
log "wrote docs/tray-qt.png ($(stat -c %s docs/tray-qt.png) bytes)"
