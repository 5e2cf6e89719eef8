#!/usr/bin/env bash
# Renders a report.html in headless Chromium, saves a PNG screenshot and fails if the
# page logged a console error or an uncaught exception.
#
#   scripts/render-report.sh <report.html> [screenshot.png]
#
# WINDOW=W,H sets the viewport (default 1280,2400); FRAGMENT=#id scrolls to a section
# (e.g. FRAGMENT=#kardex); PRINT=1 also prints the page to PDF (print CSS) and checks that
# run's console too.
#
# Installs Debian's `chromium` if missing. How errors are detected: Chromium runs with
# `--enable-logging=stderr --v=0`, which copies every console message of the page to
# stderr as `INFO:CONSOLE(...)`/`ERROR:CONSOLE(...)` lines; the script fails on
# "Uncaught", "ERROR:CONSOLE" or a failed resource load ("net::ERR_"), and prints the log.
# The report has no script and no external resource, so the expected log is clean.
set -euo pipefail

html=${1:?usage: $0 <report.html> [screenshot.png]}
png=${2:-${html%.html}.png}
[ -f "$html" ] || { echo "no such file: $html" >&2; exit 2; }

if ! command -v chromium >/dev/null 2>&1; then
    echo "installing chromium (Debian package) ..." >&2
    if ! apt-get install -y chromium >/dev/null 2>&1; then
        apt-get update >/dev/null
        apt-get install -y chromium >/dev/null
    fi
fi

abs=$(cd "$(dirname "$html")" && pwd)/$(basename "$html")
mkdir -p "$(dirname "$png")"
png_abs=$(cd "$(dirname "$png")" && pwd)/$(basename "$png")
profile=$(mktemp -d)
log=$(mktemp)
trap 'rm -rf "$profile" "$log"' EXIT

chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --enable-logging=stderr --v=0 \
    --hide-scrollbars --window-size=${WINDOW:-1280,2400} \
    --screenshot="$png_abs" "file://$abs${FRAGMENT:-}" 2>"$log" || {
    echo "chromium failed:" >&2
    cat "$log" >&2
    exit 1
}

if grep -E "Uncaught|ERROR:CONSOLE|CONSOLE\([0-9]+\).*[Ee]rror|net::ERR_" "$log" >&2; then
    echo "console errors while rendering $html (see above)" >&2
    exit 1
fi
if [ -n "${PRINT:-}" ]; then
    chromium --headless --no-sandbox --disable-gpu --no-first-run \
        --user-data-dir="$profile" --enable-logging=stderr --v=0 --no-pdf-header-footer \
        --print-to-pdf="${png_abs%.png}.pdf" "file://$abs" 2>"$log" || { cat "$log" >&2; exit 1; }
    if grep -E "Uncaught|ERROR:CONSOLE|CONSOLE\([0-9]+\).*[Ee]rror|net::ERR_" "$log" >&2; then
        echo "console errors while printing $html (see above)" >&2
        exit 1
    fi
fi
[ -s "$png_abs" ] || { echo "no screenshot written" >&2; cat "$log" >&2; exit 1; }
echo "rendered $html -> $png_abs ($(stat -c %s "$png_abs") bytes); console: $(grep -c CONSOLE "$log" || true) message(s), no errors"
