#!/usr/bin/env bash
# Benchmarks chatgate on loopback against nginx serving the same small JSON (the machine's ceiling).
#
#   bench/run.sh                  # 10 s per wrk run
#   DURATION=2 bench/run.sh       # quick smoke run
#
# Runs, interleaved so drift hits every endpoint alike: nginx, GET /api/tokens/, POST /api/chat/,
# (repeated ROUNDS times), nginx once more; then GET /api/tokens/ while a second wrk floods
# POST /api/login/. Between them, GET /api/tokens/ with rate limiting on and off (ROUNDS pairs).
# Last, GET /api/tokens/ with the session revocation check on and off (two more servers, ROUNDS
# pairs), and on the first of them authenticated with an API key versus the access token
# (ROUNDS pairs). Then bench/postgresql.sh (SQLite against PostgreSQL with one node and with two
# on one database), bench/hop.sh (the AI upstream hop against nginx as a reverse proxy,
# streams, metrics on versus off) and bench/streams.py (memory with 1000 open streams). Prints
# Markdown reports with the targets beside the numbers.
#
# Env:
#   DURATION           seconds per wrk run (default 10)
#   ROUNDS             nginx/tokens/chat rounds (default 1)
#   THREADS            wrk threads (default 2)
#   CONNECTIONS        wrk connections (default 64)
#   LOGIN_CONNECTIONS  connections of the login flood (default 16)
#   CHATGATE_SERVER    binary (default <repo>/build/chatgate)
#   BENCH_STRICT=1     exit 1 when a target is missed (default: report only)
# Needs nginx (/usr/sbin/nginx), wrk and /usr/bin/python3 (scripts/install-deps.sh bench).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
duration=${DURATION:-10}
rounds=${ROUNDS:-1}
threads=${THREADS:-2}
connections=${CONNECTIONS:-64}
login_connections=${LOGIN_CONNECTIONS:-16}
server=${CHATGATE_SERVER:-$repo/build/chatgate}
nginx_bin=/usr/sbin/nginx
python=/usr/bin/python3
helpers=("$python" "$here/helpers.py")

die() { echo "bench: $*" >&2; exit 1; }
log() { echo "bench: $*" >&2; }

[[ $duration =~ ^[1-9][0-9]*$ ]] || die "DURATION must be a positive number of seconds, got '$duration'"
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer, got '$rounds'"
[[ -x $server ]] || die "no chatgate binary at $server (build it, or set CHATGATE_SERVER)"
[[ -x $nginx_bin ]] || die "no nginx at $nginx_bin (scripts/install-deps.sh bench)"
command -v wrk >/dev/null || die "no wrk on PATH (scripts/install-deps.sh bench)"
[[ -x $python ]] || die "no $python"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/chatgate-bench.XXXXXX")
pids=() # every background process this script started, for cleanup

# Stops one process we started: SIGTERM, wait up to 10 s, then SIGKILL.
stop_pid() {
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        [[ $(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null) == Z ]] && break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null && [[ $(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null) != Z ]]; then
        log "pid $pid ignored SIGTERM for 10 s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$? pid
    trap - EXIT INT TERM
    for pid in "${pids[@]}"; do stop_pid "$pid"; done
    rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

forget_pid() {
    local pid=$1 kept=() p
    for p in "${pids[@]}"; do [[ $p == "$pid" ]] || kept+=("$p"); done
    pids=("${kept[@]}")
}

kb_of() { awk -v key="$1:" '$1 == key {print $2}' "/proc/$2/status"; }

# Dies with the tail of chatgate's log when it is no longer running.
check_chatgate() {
    if ! kill -0 "$cg_pid" 2>/dev/null || [[ $(awk '/^State:/ {print $2}' "/proc/$cg_pid/status" 2>/dev/null) == Z ]]; then
        tail -n 20 "$tmp/chatgate.log" >&2 || true
        die "chatgate (pid $cg_pid) died $1 (its log tail above)"
    fi
}

# ---------------------------------------------------------------------------------------------
# nginx

nginx_port=$("${helpers[@]}" free-port)
mkdir -p "$tmp/nginx"
user_line=""
if [[ $(id -u) -eq 0 ]]; then
    user_line="user $(id -un) $(id -gn);" # workers stay the current user instead of nobody
fi
sed -e "s|@PREFIX@|$tmp/nginx|g" -e "s|@PORT@|$nginx_port|g" -e "s|@USER_LINE@|$user_line|" \
    "$here/nginx.conf.in" >"$tmp/nginx/nginx.conf"
"$nginx_bin" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" \
    >"$tmp/nginx/stdout.log" 2>&1 &
nginx_pid=$!
pids+=("$nginx_pid")
nginx_url="http://127.0.0.1:$nginx_port"
"${helpers[@]}" wait-http "$nginx_url/" 10 || {
    cat "$tmp/nginx/stdout.log" "$tmp/nginx/error.log" >&2 2>/dev/null || true
    die "nginx did not start"
}
log "nginx $nginx_url (pid $nginx_pid)"

# ---------------------------------------------------------------------------------------------
# chatgate on a fresh data dir; balance limits raised so the chat runs never run out of tokens.

mkdir -p "$tmp/data"
balance_cap=1000000000000000  # 1e15
top_up=1000000000000          # 1e12 tokens = 1e10 chats
# Rate limiting stays on (every request is checked) with quotas no run can reach.
unreachable_limits="read=1000000000/1s,chat=1000000000/1s,top_up=1000000000/1s,login=1000000000/1s"
unreachable_limits+=",register=1000000000/1s,failed_login_user=1000000000/1s,failed_login_address=1000000000/1s"
CHATGATE_BALANCE_CAP=$balance_cap CHATGATE_TOP_UP_MAX_PER_REQUEST=$top_up \
    CHATGATE_RATE_LIMITS=$unreachable_limits \
    "$server" serve --listen 127.0.0.1:0 --data-dir "$tmp/data" \
    >"$tmp/chatgate.out" 2>"$tmp/chatgate.log" &
cg_pid=$!
pids+=("$cg_pid")

deadline=$((SECONDS + 20))
cg_url=""
while [[ -z $cg_url ]]; do
    cg_url=$(sed -n 's|^listening on \(http://[^ ]*\)$|\1|p' "$tmp/chatgate.out" | head -n1)
    [[ -n $cg_url ]] && break
    if ! kill -0 "$cg_pid" 2>/dev/null; then
        tail -n 20 "$tmp/chatgate.log" >&2 || true
        die "chatgate exited before listening"
    fi
    ((SECONDS < deadline)) || die "chatgate printed no 'listening on' line within 20 s"
    sleep 0.05
done
idle_kb=$(kb_of VmRSS "$cg_pid")
log "chatgate $cg_url (pid $cg_pid), idle RSS ${idle_kb} kB"

user="bench_$(date +%s)_$$"
password="Bench-$(od -An -N9 -tx1 /dev/urandom | tr -d ' \n')"
token=$("${helpers[@]}" setup "$cg_url" "$user" "$password" "$top_up") || {
    check_chatgate "while setting up the benchmark user"
    die "could not set up the benchmark user"
}

# ---------------------------------------------------------------------------------------------
# wrk runs

mkdir -p "$tmp/wrk"
runs_total=$((5 * rounds + 2))
run_no=0

# wrk_run LABEL URL METHOD BODY [extra wrk options...]; output to $tmp/wrk/LABEL.N.txt
declare -A label_count=()
wrk_run() {
    local label=$1 url=$2 method=$3 body=$4 n
    shift 4
    n=$((${label_count[$label]:-0} + 1))
    label_count[$label]=$n
    run_no=$((run_no + 1))
    log "run $run_no/$runs_total: $label ($method $url, ${duration}s)"
    BENCH_METHOD=$method BENCH_BODY=$body BENCH_TOKEN=$token \
        wrk -t"$threads" -c"$connections" -d"${duration}s" --latency -s "$here/wrk.lua" "$@" "$url" \
        >"$tmp/wrk/$label.$n.txt"
    check_chatgate "during the $label run"
}

chat_body='{"message":"Hello, how are you?"}'
for ((r = 0; r < rounds; r++)); do
    wrk_run nginx "$nginx_url/api/tokens/" GET ""
    wrk_run tokens "$cg_url/api/tokens/" GET ""
    wrk_run chat "$cg_url/api/chat/" POST "$chat_body"
done
wrk_run nginx "$nginx_url/api/tokens/" GET ""

# ---------------------------------------------------------------------------------------------
# Rate limiting on versus off: the main chatgate checks every request (quotas out of reach); a
# second one on the same data (same key, same user) has rate limiting switched off.

CHATGATE_BALANCE_CAP=$balance_cap CHATGATE_RATE_LIMIT_ENABLED=false \
    "$server" serve --listen 127.0.0.1:0 --data-dir "$tmp/data" \
    >"$tmp/chatgate-unlimited.out" 2>"$tmp/chatgate-unlimited.log" &
unlimited_pid=$!
pids+=("$unlimited_pid")
deadline=$((SECONDS + 20))
unlimited_url=""
while [[ -z $unlimited_url ]]; do
    unlimited_url=$(sed -n 's|^listening on \(http://[^ ]*\)$|\1|p' "$tmp/chatgate-unlimited.out" | head -n1)
    [[ -n $unlimited_url ]] && break
    kill -0 "$unlimited_pid" 2>/dev/null || die "the chatgate without rate limits exited before listening"
    ((SECONDS < deadline)) || die "the chatgate without rate limits printed no 'listening on' line within 20 s"
    sleep 0.05
done
"${helpers[@]}" wait-http "$unlimited_url/healthz" 10 || die "the chatgate without rate limits is not healthy"
# Before the login flood, whose queued hashes would slow whichever run came right after it;
# the order alternates so drift does not favour either side.
for ((r = 0; r < rounds; r++)); do
    if ((r % 2 == 0)); then
        wrk_run ratelimit-on "$cg_url/api/tokens/" GET ""
        wrk_run ratelimit-off "$unlimited_url/api/tokens/" GET ""
    else
        wrk_run ratelimit-off "$unlimited_url/api/tokens/" GET ""
        wrk_run ratelimit-on "$cg_url/api/tokens/" GET ""
    fi
done
stop_pid "$unlimited_pid"
forget_pid "$unlimited_pid"

# GET /api/tokens/ while a login flood runs beside it. The flood starts first and outlasts the
# measured run by a second on each side.
run_no=$((run_no + 1))
log "run $run_no/$runs_total: GET /api/tokens/ during a login flood (${duration}s)"
login_body=$(printf '{"username":"%s","password":"%s"}' "$user" "$password")
BENCH_METHOD=POST BENCH_BODY=$login_body BENCH_TOKEN="" \
    wrk -t1 -c"$login_connections" -d"$((duration + 2))s" --timeout 10s --latency -s "$here/wrk.lua" \
    "$cg_url/api/login/" >"$tmp/wrk/flood-login.txt" &
flood_pid=$!
pids+=("$flood_pid")
sleep 1
BENCH_METHOD=GET BENCH_BODY="" BENCH_TOKEN=$token \
    wrk -t"$threads" -c"$connections" -d"${duration}s" --latency -s "$here/wrk.lua" \
    "$cg_url/api/tokens/" >"$tmp/wrk/flood-tokens.txt"
wait "$flood_pid" || die "the login flood's wrk failed"
forget_pid "$flood_pid"

check_chatgate "during the login flood"
hwm_kb=$(kb_of VmHWM "$cg_pid")

# ---------------------------------------------------------------------------------------------
# Sessions: the cost of the per-request revocation check on GET /api/tokens/. Two more chatgate
# processes, identical but for session_check_enabled (false is a benchmark-only knob that skips
# the check), each on a fresh data dir, answer in alternating runs so drift hits both alike.

# start_extra NAME [VAR=VALUE...]: chatgate with these environment settings; sets extra_url, extra_pid.
start_extra() {
    local name=$1 deadline url=""
    shift
    mkdir -p "$tmp/$name"
    env "$@" "$server" serve --listen 127.0.0.1:0 --data-dir "$tmp/$name" \
        >"$tmp/$name.out" 2>"$tmp/$name.log" &
    extra_pid=$!
    pids+=("$extra_pid")
    deadline=$((SECONDS + 20))
    while [[ -z $url ]]; do
        url=$(sed -n 's|^listening on \(http://[^ ]*\)$|\1|p' "$tmp/$name.out" | head -n1)
        [[ -n $url ]] && break
        if ! kill -0 "$extra_pid" 2>/dev/null; then
            tail -n 20 "$tmp/$name.log" >&2 || true
            die "chatgate ($name) exited before listening"
        fi
        ((SECONDS < deadline)) || die "chatgate ($name) printed no 'listening on' line within 20 s"
        sleep 0.05
    done
    extra_url=$url
}

# Rate limiting off on both, so the session check is the only difference.
session_env=(CHATGATE_BALANCE_CAP=$balance_cap CHATGATE_TOP_UP_MAX_PER_REQUEST=$top_up
    CHATGATE_RATE_LIMIT_ENABLED=false)
start_extra session-on "${session_env[@]}"
check_on_url=$extra_url check_on_pid=$extra_pid
start_extra session-off "${session_env[@]}" CHATGATE_SESSION_CHECK_ENABLED=false
check_off_url=$extra_url check_off_pid=$extra_pid
check_on_token=$("${helpers[@]}" setup "$check_on_url" "$user" "$password" "$top_up") ||
    die "could not set up the user of the session-on server"
check_off_token=$("${helpers[@]}" setup "$check_off_url" "$user" "$password" "$top_up") ||
    die "could not set up the user of the session-off server"
# An API key of the same user, for the key-versus-JWT runs below.
check_on_key=$("${helpers[@]}" api-key "$check_on_url" "$check_on_token") ||
    die "could not create an API key on the session-on server"
runs_total=$((runs_total + 4 * rounds))
# CPU time the server spent (user + system, clock ticks), which other load on the machine does not
# inflate the way it does req/s: the report divides it by the requests answered.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
for ((r = 0; r < rounds; r++)); do
    before=$(cpu_ticks "$check_on_pid")
    token=$check_on_token wrk_run session-on "$check_on_url/api/tokens/" GET ""
    echo $(($(cpu_ticks "$check_on_pid") - before)) >>"$tmp/wrk/session-on.cpu"
    before=$(cpu_ticks "$check_off_pid")
    token=$check_off_token wrk_run session-off "$check_off_url/api/tokens/" GET ""
    echo $(($(cpu_ticks "$check_off_pid") - before)) >>"$tmp/wrk/session-off.cpu"
done
# Key authentication (one indexed read by public id, SHA-256, constant-time compare) against the
# access token (JWT verification plus the session check's read), same server, alternating.
for ((r = 0; r < rounds; r++)); do
    before=$(cpu_ticks "$check_on_pid")
    token=$check_on_key wrk_run auth-key "$check_on_url/api/tokens/" GET ""
    echo $(($(cpu_ticks "$check_on_pid") - before)) >>"$tmp/wrk/auth-key.cpu"
    before=$(cpu_ticks "$check_on_pid")
    token=$check_on_token wrk_run auth-jwt "$check_on_url/api/tokens/" GET ""
    echo $(($(cpu_ticks "$check_on_pid") - before)) >>"$tmp/wrk/auth-jwt.cpu"
done
for pid in "$check_on_pid" "$check_off_pid"; do
    stop_pid "$pid"
    forget_pid "$pid"
done

# ---------------------------------------------------------------------------------------------
# Report

cores=$(nproc)
echo
echo "chatgate benchmark: wrk -t$threads -c$connections -d${duration}s --latency, $rounds round(s), $cores cores," \
    "$("$nginx_bin" -v 2>&1 | sed 's|.*/||' | sed 's|^|nginx |'), $(wrk --version 2>&1 | head -n1 | awk '{print "wrk", $2}')"
echo
set +e
"${helpers[@]}" report "$tmp/wrk" "$idle_kb" "$hwm_kb"
report_rc=$?
set -e
case $report_rc in
    0) ;;
    3) [[ ${BENCH_STRICT:-0} == 1 ]] && die "a target was missed" ;;
    *) die "could not build the report" ;;
esac
echo
"${helpers[@]}" report-sessions "$tmp/wrk" || die "could not build the sessions report"
echo
"${helpers[@]}" report-auth "$tmp/wrk" || die "could not build the key authentication report"

# The PostgreSQL store, one node and two, against SQLite and nginx in runs of its own.
echo
"$here/postgresql.sh"

# The AI upstream hop: a canned upstream directly, through nginx as a proxy and through chatgate.
echo
"$here/hop.sh"

# Memory with 1000 streamed chats open at once, short versus long replies.
/usr/bin/python3 "$here/streams.py" --server "$server"

# A real user's login while 200 addresses flood wrong ones.
"$python" "$here/login_flood.py" --server "$server" --seconds $((duration * 2)) ||
    { [[ $? == 3 && ${BENCH_STRICT:-0} != 1 ]] || die "the login flood failed or missed its target"; }
exit 0
