#!/usr/bin/env bash
# The gateway hop against the fastest hop this machine can make. A canned upstream that is never
# the bottleneck (nginx answering a fixed chat.completion; chatgate_canned_upstream for server-sent
# events, deltas paced STREAM_GAP_MS apart), and, interleaved in one run at 1, 16 and 64
# connections: straight to the upstream; through nginx as a reverse proxy with a keep-alive pool
# (the anchor); through chatgate on POST /v1/chat/completions and POST /api/chat/ (authentication,
# the session check, rate limiting with quotas out of reach, billing and the access log all on);
# and /v1 again on a second chatgate without metrics (metrics on versus off). Then streams at
# STREAM_CONNECTIONS: time to first byte and the gap between deltas, direct, proxied and through
# chatgate. Prints Markdown tables with the targets beside the numbers.
#
#   bench/hop.sh                      # DURATION=10 s per wrk run
#   DURATION=2 ROUNDS=1 bench/hop.sh  # a quick smoke run
#
# Env: DURATION (10), ROUNDS (1), THREADS (2), HOP_CONNECTIONS ("1 16 64"), STREAM_CONNECTIONS
# (64), STREAM_CHUNKS (20), STREAM_GAP_MS (10), CHATGATE_SERVER, CANNED_UPSTREAM.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
duration=${DURATION:-10}
rounds=${ROUNDS:-1}
threads=${THREADS:-2}
hop_connections=${HOP_CONNECTIONS:-1 16 64}
stream_connections=${STREAM_CONNECTIONS:-64}
server=${CHATGATE_SERVER:-$repo/build/chatgate}
canned=${CANNED_UPSTREAM:-$(dirname "$server")/chatgate_canned_upstream}
nginx_bin=/usr/sbin/nginx
python=/usr/bin/python3
helpers=("$python" "$here/helpers.py")

die() { echo "bench-hop: $*" >&2; exit 1; }
log() { echo "bench-hop: $*" >&2; }

[[ -x $server ]] || die "no chatgate binary at $server (build it, or set CHATGATE_SERVER)"
[[ -x $canned ]] || die "no canned upstream at $canned (it is built with chatgate)"
[[ -x $nginx_bin ]] || die "no nginx at $nginx_bin (scripts/install-deps.sh bench)"
command -v wrk >/dev/null || die "no wrk on PATH (scripts/install-deps.sh bench)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/chatgate-bench-hop.XXXXXX")
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

# ---- the canned upstreams and the proxy ----
"$canned" --chunks "${STREAM_CHUNKS:-20}" --gap-ms "${STREAM_GAP_MS:-10}" >"$tmp/canned.out" 2>&1 &
pids+=($!)
stream_url=$(wait_line "$tmp/canned.out" "$!")
upstream_port=$("${helpers[@]}" free-port)
proxy_port=$("${helpers[@]}" free-port)
mkdir -p "$tmp/nginx"
user_line=""
[[ $(id -u) -eq 0 ]] && user_line="user $(id -un) $(id -gn);"
sed -e "s|@PREFIX@|$tmp/nginx|g" -e "s|@UPSTREAM_PORT@|$upstream_port|g" \
    -e "s|@PROXY_PORT@|$proxy_port|g" -e "s|@STREAM_UPSTREAM@|${stream_url#http://}|g" \
    -e "s|@USER_LINE@|$user_line|" "$here/hop-nginx.conf.in" >"$tmp/nginx/nginx.conf"
"$nginx_bin" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" >"$tmp/nginx.out" 2>&1 &
pids+=($!)
upstream_url="http://127.0.0.1:$upstream_port"
proxy_url="http://127.0.0.1:$proxy_port"
"${helpers[@]}" wait-http "$upstream_url/" 10 || die "nginx did not start"
log "canned upstream $upstream_url, streams $stream_url, nginx proxy $proxy_url"

# ---- two chatgates, identical but for metrics ----
models=$(printf '[{"id":"bench","provider":"openai","base_url":"%s/v1","upstream_model":"bench"},
{"id":"bench-stream","provider":"openai","base_url":"%s/v1","upstream_model":"bench"}]' \
    "$upstream_url" "$stream_url")
limits="read=1000000000/1s,chat=1000000000/1s,top_up=1000000000/1s,login=1000000000/1s"
top_up=1000000000000
start_chatgate() { # NAME [VAR=VALUE...]; sets cg_url, cg_pid
    local name=$1
    shift
    mkdir -p "$tmp/$name"
    env CHATGATE_MODELS="$models" CHATGATE_RATE_LIMITS="$limits" CHATGATE_BALANCE_CAP=1000000000000000 \
        CHATGATE_TOP_UP_MAX_PER_REQUEST=$top_up CHATGATE_MAX_CONNECTIONS_PER_ADDRESS=0 "$@" \
        "$server" serve --listen 127.0.0.1:0 --data-dir "$tmp/$name" >"$tmp/$name.out" 2>"$tmp/$name.log" &
    cg_pid=$!
    pids+=("$cg_pid")
    cg_url=$(wait_line "$tmp/$name.out" "$cg_pid")
}
start_chatgate metrics-on CHATGATE_METRICS_LISTEN=127.0.0.1:0
on_url=$cg_url on_pid=$cg_pid
start_chatgate metrics-off
off_url=$cg_url off_pid=$cg_pid
user="bench_hop_$(date +%s)_$$"
password="Bench-$(od -An -N9 -tx1 /dev/urandom | tr -d ' \n')"
on_token=$("${helpers[@]}" setup "$on_url" "$user" "$password" "$top_up") || die "setup failed"
off_token=$("${helpers[@]}" setup "$off_url" "$user" "$password" "$top_up") || die "setup failed"
log "chatgate $on_url (metrics on, pid $on_pid), $off_url (metrics off, pid $off_pid)"

# ---- request/answer runs ----
v1_body='{"model":"bench","messages":[{"role":"user","content":"Hello, how are you?"}]}'
chat_body='{"message":"Hello, how are you?","model":"bench"}'
mkdir -p "$tmp/wrk"
run() { # LABEL CONNECTIONS URL BODY TOKEN
    local t=$threads
    (($2 < t)) && t=$2
    log "$1 at $2 connections (${duration}s)"
    BENCH_METHOD=POST BENCH_BODY=$4 BENCH_TOKEN=$5 \
        wrk -t"$t" -c"$2" -d"${duration}s" --latency -s "$here/wrk.lua" "$3" >"$tmp/wrk/$1-$2.$r.txt"
    kill -0 "$on_pid" 2>/dev/null && kill -0 "$off_pid" 2>/dev/null || die "a chatgate died during $1"
}
for ((r = 1; r <= rounds; r++)); do
    for c in $hop_connections; do
        run direct "$c" "$upstream_url/v1/chat/completions" "$v1_body" ""
        run proxy "$c" "$proxy_url/v1/chat/completions" "$v1_body" ""
        # Metrics on and off swap places every round, so drift favours neither.
        if ((r % 2 == 0)); then run v1-nometrics "$c" "$off_url/v1/chat/completions" "$v1_body" "$off_token"; fi
        run v1 "$c" "$on_url/v1/chat/completions" "$v1_body" "$on_token"
        run chat "$c" "$on_url/api/chat/" "$chat_body" "$on_token"
        if ((r % 2 == 1)); then run v1-nometrics "$c" "$off_url/v1/chat/completions" "$v1_body" "$off_token"; fi
    done
done

# ---- streams ----
stream_seconds=$((duration < 5 ? 5 : duration))
stream_run() { # LABEL URL TOKEN MODEL
    log "streams: $1, $stream_connections at once (${stream_seconds}s)"
    "$python" "$here/stream_timing.py" "$2" "$3" "$stream_connections" "$stream_seconds" "$4" \
        >"$tmp/wrk/stream-$1.json"
}
stream_run direct "$stream_url/v1/chat/completions" - bench
stream_run proxy "$proxy_url/sse/v1/chat/completions" - bench
stream_run chatgate "$on_url/v1/chat/completions" "$on_token" bench-stream

echo
echo "chatgate hop benchmark: wrk -t$threads --latency, ${duration}s per run, $rounds round(s), $(nproc) cores," \
    "$("$nginx_bin" -v 2>&1 | sed 's|.*/|nginx |'), $(date -u +%Y-%m-%d)"
echo
"$python" "$here/helpers.py" report-hop "$tmp/wrk" "$hop_connections" "$stream_connections" \
    "${STREAM_GAP_MS:-10}" || die "could not build the hop report"
