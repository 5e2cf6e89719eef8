#!/usr/bin/env bash
# End to end on the bundled fixtures and a small generated history:
# generate → ingest → audit (→ report when available). Used by the README and CI.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pedaudit-target}"
cargo build --quiet
B="$CARGO_TARGET_DIR/debug/pedimento-audit"
OUT="${OUT:-out/e2e}"
rm -rf "$OUT"
mkdir -p "$OUT"

echo "-- bundled fixtures: Data Stage (with malformed rows) and CSV"
"$B" ingest fixtures/datastage fixtures/ledger/pedimentos.csv --dataset "$OUT/fixtures-ds"
"$B" audit --dataset "$OUT/fixtures-ds" --profiles fixtures/ledger/profiles --out "$OUT/fixtures-audit"

echo "-- generated 3-company, 3-year history with injected violations"
"$B" generate --out "$OUT/gen" --companies 3 --years 3 --partidas 5000 --inject expired,excess,unit,virtual-unpaired,virtual-mismatch,virtual-late
"$B" ingest "$OUT/gen/datastage" --dataset "$OUT/gen-ds"
"$B" audit --dataset "$OUT/gen-ds" --profiles "$OUT/gen/profiles" --out "$OUT/gen-audit"
echo "injected (expected findings):"
cat "$OUT/gen/injected.csv"
if "$B" report --help >/dev/null 2>&1 && "$B" report --dataset "$OUT/gen-ds" --audit "$OUT/gen-audit" --out "$OUT/reports" 2>/dev/null; then
  echo "reports written under $OUT/reports"
fi
