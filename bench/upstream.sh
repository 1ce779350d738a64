#!/usr/bin/env bash
# The gateway's cost: POST /api/chat/ through chatgate to the fake OpenAI upstream versus the
# same completion asked of the fake upstream directly, interleaved in one run.
#
#   bench/upstream.sh               # 10 s per wrk run
#   DURATION=2 bench/upstream.sh    # quick smoke run
#
# Env: DURATION, ROUNDS (default 1), THREADS (2), CONNECTIONS (64), CHATGATE_SERVER, as in
# bench/run.sh. Prints a Markdown table. The fake is single-process Python, so it is the
# ceiling of both runs: the figure that matters is the added latency.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
duration=${DURATION:-10}
rounds=${ROUNDS:-1}
threads=${THREADS:-2}
connections=${CONNECTIONS:-64}
server=${CHATGATE_SERVER:-$repo/build/chatgate}
python=/usr/bin/python3
helpers=("$python" "$here/helpers.py")

die() { echo "bench-upstream: $*" >&2; exit 1; }
log() { echo "bench-upstream: $*" >&2; }

[[ -x $server ]] || die "no chatgate binary at $server (build it, or set CHATGATE_SERVER)"
command -v wrk >/dev/null || die "no wrk on PATH (scripts/install-deps.sh bench)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/chatgate-bench-upstream.XXXXXX")
pids=()
cleanup() {
    local rc=$? pid
    trap - EXIT INT TERM
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_line FILE PID: the URL from the process's "listening on URL" line.
wait_line() {
    local file=$1 pid=$2 deadline=$((SECONDS + 20)) url=""
    while [[ -z $url ]]; do
        url=$(sed -n 's|^listening on \(http://[^ ]*\)$|\1|p' "$file" | head -n1)
        [[ -n $url ]] && break
        kill -0 "$pid" 2>/dev/null || die "pid $pid exited before listening"
        ((SECONDS < deadline)) || die "pid $pid printed no 'listening on' line within 20 s"
        sleep 0.05
    done
    echo "$url"
}

"$python" "$repo/tests/fake_upstream/fake_openai.py" --port 0 >"$tmp/fake.out" 2>"$tmp/fake.log" &
fake_pid=$!
pids+=("$fake_pid")
fake_url=$(wait_line "$tmp/fake.out" "$fake_pid")
log "fake upstream $fake_url (pid $fake_pid)"

models=$(printf '[{"id":"bench","provider":"openai","base_url":"%s/v1","upstream_model":"echo"}]' "$fake_url")
mkdir -p "$tmp/data"
top_up=1000000000000
# Rate limiting off: this measures the upstream hop, not the limiter.
CHATGATE_RATE_LIMIT_ENABLED=false CHATGATE_BALANCE_CAP=1000000000000000 CHATGATE_TOP_UP_MAX_PER_REQUEST=$top_up \
    CHATGATE_MODELS=$models \
    "$server" serve --listen 127.0.0.1:0 --data-dir "$tmp/data" >"$tmp/chatgate.out" 2>"$tmp/chatgate.log" &
cg_pid=$!
pids+=("$cg_pid")
cg_url=$(wait_line "$tmp/chatgate.out" "$cg_pid")
log "chatgate $cg_url (pid $cg_pid) -> fake upstream"

user="bench_up_$(date +%s)_$$"
password="Bench-$(od -An -N9 -tx1 /dev/urandom | tr -d ' \n')"
token=$("${helpers[@]}" setup "$cg_url" "$user" "$password" "$top_up") || die "could not set up the user"

message="Hello, how are you?"
direct_body=$(printf '{"model":"echo","messages":[{"role":"user","content":"%s"}]}' "$message")
chat_body=$(printf '{"message":"%s"}' "$message")
mkdir -p "$tmp/wrk"
# run LABEL THREADS CONNECTIONS URL BODY TOKEN
run() {
    log "$1 (${duration}s)"
    BENCH_METHOD=POST BENCH_BODY=$5 BENCH_TOKEN=$6 \
        wrk -t"$2" -c"$3" -d"${duration}s" --latency -s "$here/wrk.lua" "$4" >"$tmp/wrk/$1.$r.txt"
    kill -0 "$cg_pid" 2>/dev/null || die "chatgate died during the run"
}
for ((r = 1; r <= rounds; r++)); do
    # One connection: each request alone, so the difference is chatgate's own cost per chat
    # (auth, the charge, the upstream hop, storing the exchange).
    run direct-1 1 1 "$fake_url/v1/chat/completions" "$direct_body" ""
    run gateway-1 1 1 "$cg_url/api/chat/" "$chat_body" "$token"
    # Many connections: the Python fake saturates, which bounds both runs.
    run direct-n "$threads" "$connections" "$fake_url/v1/chat/completions" "$direct_body" ""
    run gateway-n "$threads" "$connections" "$cg_url/api/chat/" "$chat_body" "$token"
done

echo
echo "chatgate upstream benchmark: wrk -t$threads -c$connections -d${duration}s --latency, $rounds round(s)," \
    "$(nproc) cores, fake upstream in Python"
echo
BENCH_DIR=$tmp/wrk CONNECTIONS=$connections "$python" - "$here" <<'PY'
import glob, os, sys
sys.path.insert(0, sys.argv[1])
import helpers

def mean(label):
    runs = [helpers.parse_wrk(p) for p in sorted(glob.glob(os.path.join(os.environ["BENCH_DIR"], label + ".*.txt")))]
    return helpers.mean_of(runs)

print("| path | connections | req/s | p50 | p99 | non-2xx | socket errors |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
results = {}
for suffix, conns in (("1", "1"), ("n", os.environ["CONNECTIONS"])):
    direct, gateway = mean("direct-" + suffix), mean("gateway-" + suffix)
    results[suffix] = (direct, gateway)
    for name, run in (("fake upstream directly", direct), ("POST /api/chat/ through chatgate", gateway)):
        print(f"| {name} | {conns} | {helpers.fmt_rps(run['rps'])} | {helpers.fmt_ms(run['p50'])} "
              f"| {helpers.fmt_ms(run['p99'])} | {run['non2xx']} | {run['socket_errors']} |")
print()
for suffix, what in (("1", "one connection"), ("n", os.environ["CONNECTIONS"] + " connections")):
    direct, gateway = results[suffix]
    added50, added99 = gateway["p50"] - direct["p50"], gateway["p99"] - direct["p99"]
    line = (f"- {what}: chatgate adds p50 {helpers.fmt_ms(max(added50, 0))}, p99 {helpers.fmt_ms(max(added99, 0))}; "
            f"throughput {100 * gateway['rps'] / direct['rps']:.0f}% of direct")
    if suffix == "n":
        line += f" (target under 1 ms at p99: {helpers.verdict(added99 < 1.0)})"
    print(line)
PY
