#!/usr/bin/env bash
# The slow forms of the trust tests (issue 6), and their short form for CI.
#
#   scripts/trust.sh short [SECONDS]   CI: each fuzz target SECONDS (default 15) with the stable
#                                      driver; the crash (20 kills) and concurrency tests run in
#                                      the default pytest run already.
#   scripts/trust.sh long  [SECONDS]   120 SIGKILLs, the concurrency tests, each fuzz target
#                                      SECONDS (default 60) with libFuzzer if it builds, else
#                                      with the stable driver.
#   scripts/trust.sh fuzz ENGINE SECONDS [TARGET...]
#                                      ENGINE is "stable" (mutation driver, any toolchain) or
#                                      "libfuzzer" (coverage-guided libFuzzer built on the stable
#                                      toolchain with sanitizer-coverage flags; no cargo-fuzz or
#                                      nightly needed; `cargo +nightly fuzz run TARGET` also works).
#
# Fuzz figures are printed as "<target>: N executions, P panics"; a panic's input is saved under
# fuzz/artifacts/<target>/ and the script fails.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}"
TARGETS=(definition expression selection)
PYTHON="${PYTHON:-python3}"

fuzz_stable() {
  local seconds="$1"; shift
  cargo build -q --release --manifest-path fuzz/Cargo.toml --bin stable-fuzz
  local status=0
  for t in "$@"; do
    fuzz/target/release/stable-fuzz "$t" "$seconds" || status=1
  done
  return "$status"
}

build_libfuzzer() {
  local host
  host="$(rustc -vV | sed -n 's/^host: //p')"
  # The flags cargo-fuzz passes, minus the nightly-only sanitizer; an explicit --target keeps
  # them off build scripts and proc macros.
  RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks" \
    cargo build -q --release --manifest-path fuzz/Cargo.toml --features libfuzzer \
      --target "$host" --target-dir fuzz/target/libfuzzer --bin definition --bin expression --bin selection
  echo "fuzz/target/libfuzzer/$host/release"
}

fuzz_libfuzzer() {
  local seconds="$1"; shift
  local bin status=0
  bin="$(build_libfuzzer | tail -1)"
  for t in "$@"; do
    mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
    local seeds=()
    [ "$t" = definition ] && seeds=(tests/fixtures/definitions)
    local log="fuzz/artifacts/$t/libfuzzer.log"
    if "$bin/$t" -max_total_time="$seconds" -dict=fuzz/json.dict -max_len=65536 \
        -artifact_prefix="fuzz/artifacts/$t/" "fuzz/corpus/$t" "${seeds[@]}" >"$log" 2>&1; then
      echo "$t: $(grep -ao 'Done [0-9]* runs' "$log" | tail -1 | awk '{print $2}') executions, 0 panics (libFuzzer)"
    else
      status=1
      echo "$t: libFuzzer found a crash; see $log"
      tail -30 "$log"
    fi
  done
  return "$status"
}

case "${1:-short}" in
  short)
    fuzz_stable "${2:-15}" "${TARGETS[@]}"
    ;;
  long)
    SAGEPIPE_CRASH_KILLS="${SAGEPIPE_CRASH_KILLS:-120}" "$PYTHON" -m pytest -q -s tests/test_crash.py
    "$PYTHON" -m pytest -q -s tests/test_concurrency.py
    if build_libfuzzer >/dev/null 2>&1; then
      fuzz_libfuzzer "${2:-60}" "${TARGETS[@]}"
    else
      echo "libFuzzer build failed here; using the stable driver"
      fuzz_stable "${2:-60}" "${TARGETS[@]}"
    fi
    ;;
  fuzz)
    engine="${2:?engine: stable or libfuzzer}"; seconds="${3:?seconds}"; shift 3
    [ "$#" -gt 0 ] || set -- "${TARGETS[@]}"
    "fuzz_$engine" "$seconds" "$@"
    ;;
  *)
    sed -n '2,18p' "$0"; exit 2
    ;;
esac
