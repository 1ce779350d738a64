#!/usr/bin/env bash
# A private PostgreSQL 15 for the tests: `start DIR` makes a cluster in DIR (created, must not
# hold one yet) listening only on a Unix socket in DIR, and prints the libpq URL of its
# `postgres` database; `stop DIR` stops it by the PID pg_ctl recorded and removes DIR.
# As root, the server runs as the unprivileged `postgres` user (PostgreSQL refuses root).
set -euo pipefail

bin=${CHATGATE_PG_BIN:-/usr/lib/postgresql/15/bin}
action=${1:?usage: postgres_server.sh start|stop DIR}
dir=${2:?usage: postgres_server.sh start|stop DIR}

as_owner() {
    if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case $action in
start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [[ $(id -u) -eq 0 ]]; then
        chown postgres: "$dir"
        # The socket's directory must be reachable; the parents of a temporary dir usually are.
        chmod 0755 "$dir"
    fi
    as_owner "$bin/initdb" -D "$dir/data" -U chatgate --auth=trust --locale=C -E UTF8 \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    # fsync off: a test cluster is thrown away, durability buys nothing here.
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses='' -k $dir -c fsync=off -c synchronous_commit=off \
            -c full_page_writes=off -c max_connections=300" start >/dev/null \
        || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgresql://chatgate@/postgres?host=$dir"
    ;;
stop)
    [[ -d $dir/data ]] || exit 0
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null || true
    rm -rf "$dir"
    ;;
restart)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 restart >/dev/null
    ;;
*)
    echo "usage: postgres_server.sh start|stop|restart DIR" >&2
    exit 2
    ;;
esac
