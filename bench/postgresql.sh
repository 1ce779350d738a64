#!/usr/bin/env bash
# The PostgreSQL store against the SQLite one, in one run: GET /api/tokens/ and POST /api/chat/
# on nginx's fixed answer (the ceiling), on chatgate with SQLite, on one chatgate node with
# PostgreSQL and on two nodes sharing that database, interleaved so drift hits all alike.
# Requests/s and p99, each as a ratio of nginx's; target: with PostgreSQL, POST /api/chat/ at
# least 0.5x the SQLite figure of the same run.
#
#   bench/postgresql.sh                      # DURATION=10 s per wrk run
#   DURATION=3 ROUNDS=1 bench/postgresql.sh  # a quick smoke run
#
# The database is a private PostgreSQL 15 started here (tests/support/postgres_server.sh: a
# Unix socket in a directory of its own, fsync and synchronous_commit off, as for the tests;
# synchronous_commit off keeps a commit as durable as SQLite's synchronous=NORMAL in WAL mode)
# and stopped at the end. The two nodes are measured by two wrk processes at once, one per
# node, each with half the connections: their req/s add up, and the p99 shown is the worse of
# the two. Not through a proxy: on two cores a proxy in front would take CPU from the nodes and
# its hop would be counted as theirs (config/nginx-two-nodes.conf is checked by the tests).
#
# Env: DURATION (10), ROUNDS (1), THREADS (2), CONNECTIONS (64), CHATGATE_SERVER.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
duration=${DURATION:-10}
rounds=${ROUNDS:-1}
threads=${THREADS:-2}
connections=${CONNECTIONS:-64}
server=${CHATGATE_SERVER:-$repo/build/chatgate}
nginx_bin=/usr/sbin/nginx
python=/usr/bin/python3
helpers=("$python" "$here/helpers.py")
pg_script=$repo/tests/support/postgres_server.sh
psql=/usr/lib/postgresql/15/bin/psql

die() { echo "bench-postgresql: $*" >&2; exit 1; }
log() { echo "bench-postgresql: $*" >&2; }

[[ -x $server ]] || die "no chatgate binary at $server (build it, or set CHATGATE_SERVER)"
[[ -x $nginx_bin ]] || die "no nginx at $nginx_bin (scripts/install-deps.sh bench)"
[[ -x $psql ]] || die "no PostgreSQL 15 at $(dirname "$psql") (scripts/install-deps.sh test)"
command -v wrk >/dev/null || die "no wrk on PATH (scripts/install-deps.sh bench)"
((connections >= 2)) || die "CONNECTIONS must be at least 2 (half for each node)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/chatgate-bench-pg.XXXXXX")
# The server's socket directory: short enough for a socket path, reachable by its own user.
pg_dir=$(mktemp -d /tmp/cgbpg.XXXXXX)
pids=()
cleanup() {
    local rc=$? pid
    trap - EXIT INT TERM
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    "$pg_script" stop "$pg_dir" || true
    rm -rf "$tmp" "$pg_dir"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_line FILE PID: the URL from the process's "listening on URL" line.
wait_line() {
    local file=$1 pid=$2 deadline=$((SECONDS + 30)) url=""
    while [[ -z $url ]]; do
        url=$(sed -n 's|^listening on \(http://[^ ]*\)$|\1|p' "$file" | head -n1)
        [[ -n $url ]] && break
        kill -0 "$pid" 2>/dev/null || { tail -n 20 "${file%.out}.log" >&2 || true; die "pid $pid exited before listening"; }
        ((SECONDS < deadline)) || die "pid $pid printed no 'listening on' line within 30 s"
        sleep 0.05
    done
    echo "$url"
}

# ---- nginx's fixed answer ----
nginx_port=$("${helpers[@]}" free-port)
mkdir -p "$tmp/nginx"
user_line=""
[[ $(id -u) -eq 0 ]] && user_line="user $(id -un) $(id -gn);"
sed -e "s|@PREFIX@|$tmp/nginx|g" -e "s|@PORT@|$nginx_port|g" -e "s|@USER_LINE@|$user_line|" \
    "$here/nginx.conf.in" >"$tmp/nginx/nginx.conf"
"$nginx_bin" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" \
    >"$tmp/nginx/stdout.log" 2>&1 &
pids+=($!)
nginx_url="http://127.0.0.1:$nginx_port"
"${helpers[@]}" wait-http "$nginx_url/" 10 || die "nginx did not start"

# ---- PostgreSQL ----
admin_url=$("$pg_script" start "$pg_dir") || die "PostgreSQL did not start"
"$psql" -X -q "$admin_url" -c "CREATE DATABASE bench" || die "cannot create the bench database"
db_url=${admin_url/\/postgres/\/bench}
log "PostgreSQL $db_url"

# ---- chatgate: SQLite, and two nodes on PostgreSQL (one key, so a token holds on both) ----
balance_cap=1000000000000000  # 1e15
top_up=1000000000000          # 1e12 tokens = 1e10 chats
unreachable_limits="read=1000000000/1s,chat=1000000000/1s,top_up=1000000000/1s,login=1000000000/1s"
unreachable_limits+=",register=1000000000/1s,failed_login_user=1000000000/1s,failed_login_address=1000000000/1s"
jwt_secret=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
common=(CHATGATE_BALANCE_CAP=$balance_cap CHATGATE_TOP_UP_MAX_PER_REQUEST=$top_up
    CHATGATE_RATE_LIMITS=$unreachable_limits CHATGATE_JWT_SECRET=$jwt_secret)

# start NAME [VAR=VALUE...]: a chatgate with its own data directory; sets started_url.
start() {
    local name=$1
    shift
    mkdir -p "$tmp/$name"
    env "${common[@]}" "$@" "$server" serve --listen 127.0.0.1:0 --data-dir "$tmp/$name/data" \
        >"$tmp/$name.out" 2>"$tmp/$name.log" &
    pids+=($!)
    started_url=$(wait_line "$tmp/$name.out" "$!")
}
start sqlite
sqlite_url=$started_url
start node-a CHATGATE_DATABASE_URL="$db_url" CHATGATE_NODE_ID=bench-a
node_a_url=$started_url
start node-b CHATGATE_DATABASE_URL="$db_url" CHATGATE_NODE_ID=bench-b
node_b_url=$started_url
log "SQLite $sqlite_url, PostgreSQL nodes $node_a_url and $node_b_url"

user="bench_$(date +%s)_$$"
password="Bench-$(od -An -N9 -tx1 /dev/urandom | tr -d ' \n')"
sqlite_token=$("${helpers[@]}" setup "$sqlite_url" "$user" "$password" "$top_up") ||
    die "could not set up the SQLite user"
pg_token=$("${helpers[@]}" setup "$node_a_url" "$user" "$password" "$top_up") ||
    die "could not set up the PostgreSQL user"

# ---- wrk runs ----
mkdir -p "$tmp/wrk"
chat_body='{"message":"Hello, how are you?"}'
declare -A label_count=()
# wrk_one FILE CONNECTIONS TOKEN METHOD BODY URL
wrk_one() {
    BENCH_METHOD=$4 BENCH_BODY=$5 BENCH_TOKEN=$3 \
        wrk -t"$threads" -c"$2" -d"${duration}s" --latency -s "$here/wrk.lua" "$6" >"$1"
}
# run LABEL TOKEN METHOD BODY URL [URL2]: one wrk, or one per node at once with half the
# connections each; output $tmp/wrk/LABEL.N.txt (and LABEL.N.b.txt).
run() {
    local label=$1 token=$2 method=$3 body=$4 url=$5 url2=${6:-} n half
    n=$((${label_count[$label]:-0} + 1))
    label_count[$label]=$n
    log "$label ($method, ${duration}s)"
    if [[ -z $url2 ]]; then
        wrk_one "$tmp/wrk/$label.$n.txt" "$connections" "$token" "$method" "$body" "$url"
        return
    fi
    half=$((connections / 2))
    wrk_one "$tmp/wrk/$label.$n.txt" "$half" "$token" "$method" "$body" "$url" &
    local first=$!
    wrk_one "$tmp/wrk/$label.$n.b.txt" "$((connections - half))" "$token" "$method" "$body" "$url2" ||
        die "wrk against the second node failed"
    wait "$first" || die "wrk against the first node failed"
}

for ((r = 0; r < rounds; r++)); do
    run nginx "" GET "" "$nginx_url/api/tokens/"
    run sqlite-tokens "$sqlite_token" GET "" "$sqlite_url/api/tokens/"
    run sqlite-chat "$sqlite_token" POST "$chat_body" "$sqlite_url/api/chat/"
    run pg1-tokens "$pg_token" GET "" "$node_a_url/api/tokens/"
    run pg1-chat "$pg_token" POST "$chat_body" "$node_a_url/api/chat/"
    run pg2-tokens "$pg_token" GET "" "$node_a_url/api/tokens/" "$node_b_url/api/tokens/"
    run pg2-chat "$pg_token" POST "$chat_body" "$node_a_url/api/chat/" "$node_b_url/api/chat/"
done
run nginx "" GET "" "$nginx_url/api/tokens/"

# The money after it all: the benchmark user's balance equals its ledger on both stores.
ledger_sql="SELECT count(*) FROM users u WHERE u.tokens < 0 OR u.tokens <> coalesce((SELECT sum(l.delta) FROM ledger l WHERE l.user_id = u.id), 0)"
"${helpers[@]}" ledger-check-sqlite "$tmp/sqlite/data/chatgate.sqlite3" "$ledger_sql" ||
    die "the SQLite ledger check failed"
mismatched=$("$psql" -X -q -At "$db_url" -c "$ledger_sql") || die "the PostgreSQL ledger check failed"
[[ $mismatched == 0 ]] || die "PostgreSQL: $mismatched balance(s) differ from their ledger"

echo
echo "chatgate on PostgreSQL: wrk -t$threads -c$connections -d${duration}s --latency, $rounds round(s)," \
    "$(nproc) cores, $("$psql" --version | awk '{print "PostgreSQL", $3}'), $(date -u +%Y-%m-%d)"
echo
set +e
"${helpers[@]}" report-postgresql "$tmp/wrk"
rc=$?
set -e
case $rc in
    0) ;;
    3) [[ ${BENCH_STRICT:-0} == 1 ]] && die "a target was missed" ;;
    *) die "could not build the PostgreSQL report" ;;
esac
exit 0
