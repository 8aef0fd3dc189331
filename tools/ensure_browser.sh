#!/usr/bin/env bash
# Make sure the browser tests (tests/browser/) have a Chromium: Debian's, at /usr/bin/chromium
# (or wherever $CHROMIUM points). When it is missing and we are allowed to (root, or passwordless
# sudo, with apt-get), install Debian's chromium package non-interactively. Otherwise say what is
# missing and carry on: the browser tests then skip with a message naming it.
set -uo pipefail

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
    echo "browser: using $CHROMIUM"
    exit 0
fi
if [ "$CHROMIUM" != /usr/bin/chromium ]; then
    echo "browser: no Chromium at CHROMIUM=$CHROMIUM; the browser tests will be skipped" \
         "(unset CHROMIUM to use, or install, Debian's /usr/bin/chromium)"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "browser: no Chromium at $CHROMIUM and no apt-get to install one;" \
         "the browser tests will be skipped (install Chromium, or set CHROMIUM=/path/to/chromium)"
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "browser: no Chromium at $CHROMIUM, and installing one needs root;" \
         "run 'sudo apt-get install chromium' once, or the browser tests will be skipped"
    exit 0
fi
echo "browser: installing Debian's chromium with apt-get (once; takes a few minutes)"
export DEBIAN_FRONTEND=noninteractive
if $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends chromium; then
    echo "browser: installed $(command -v chromium)"
else
    echo "browser: apt-get could not install chromium; the browser tests will be skipped"
fi
exit 0
