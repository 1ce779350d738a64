#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time, starting from its committed seed corpus.
#   run_fuzzer.sh FUZZER SEED_DIR WORK_DIR SECONDS
# New inputs go to WORK_DIR (in the build tree), never into the committed corpus. On a finding
# it prints the reproducer (path, bytes, and the command that replays it) and fails.
# CHATGATE_FUZZ_SECONDS in the environment overrides SECONDS.
set -uo pipefail
fuzzer=$1 seeds=$2 work=$3 seconds=${CHATGATE_FUZZ_SECONDS:-$4}
mkdir -p "$work/corpus" "$work/artifacts"
rm -f "$work"/artifacts/*

# Leaks are findings too; halting on UBSan is compiled in (-fno-sanitize-recover).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# -timeout: one input taking over 10 s is a hang; -rss_limit_mb (and the malloc limit it
# implies): an input that makes us allocate 2 GB is a finding, and CI memory stays bounded.
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus" "$seeds" 2>&1 \
    | grep -v -E '^#[0-9]+\s+(NEW|REDUCE|pulse)' # progress lines only make the log long
status=${PIPESTATUS[0]}

shopt -s nullglob
findings=("$work"/artifacts/*)
if ((status != 0 || ${#findings[@]})); then
    echo "FUZZ FAILURE: $(basename "$fuzzer") exited with $status"
    for f in "${findings[@]}"; do
        echo "reproducer: $f ($(stat -c %s "$f") bytes)"
        head -c 512 "$f" | od -A d -c | head -40
        echo "replay: $fuzzer $f"
        echo "once fixed, keep it as a seed: cp $f $seeds/"
    done
    exit 1
fi
