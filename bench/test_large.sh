#!/usr/bin/env bash
# The large-history variants of the generated-history tests (tests/generated.rs,
# `#[ignore]`d in the normal suite to keep `cargo test` under 10 minutes on 2 cores):
# the same assertions over 4,000-partida histories, and the property tests with more cases.
# Usage: bench/test_large.sh [extra cargo args, e.g. --release]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test "$@" --test generated -- --ignored
PROPTEST_CASES=${PROPTEST_CASES:-24} cargo test "$@" --test generated --test ledger_records -- ledger_conserves
