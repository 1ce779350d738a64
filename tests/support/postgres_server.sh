#!/usr/bin/env bash
# A private PostgreSQL 15 for the tests, in directory DIR (cluster in DIR/data, socket and logs
# in DIR), listening only on its Unix socket there:
#   start DIR    make the cluster (DIR must not hold a running one) and start it; prints the
#                libpq URL of its `postgres` database
#   stop DIR     stop it (pg_ctl, by the PID it recorded) and remove DIR
#   pause DIR / resume DIR / restart DIR   stop or start the server, keeping its data
# As root, the server runs as the unprivileged `postgres` user (PostgreSQL refuses root).
set -euo pipefail

bin=${CHATGATE_PG_BIN:-/usr/lib/postgresql/15/bin}
usage="usage: postgres_server.sh start|stop|pause|resume|restart DIR"
action=${1:?$usage}
dir=${2:?$usage}

as_owner() {
    if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# As root: the postgres user must be able to search every directory on the way to the binaries
# and to DIR. Debian's own are (0755); a root made in a private directory (a chroot built in a
# mktemp -d, mode 0700) is not, and then nothing but root could run there. Such a directory is
# given the search bit (o+x) that Debian's directories have, and the change is said.
searchable_for_postgres() {
    [[ $(id -u) -eq 0 ]] || return 0
    local path
    for path in "$bin" "$1"; do
        while :; do
            local mode
            mode=$(stat -c %a "$path")
            if (( (8#$mode & 1) == 0 )) && [[ $(stat -c %U "$path") != postgres ]]; then
                echo "postgres_server.sh: $path (mode $mode) is not searchable by the postgres" \
                    "user; adding o+x" >&2
                chmod o+x "$path"
            fi
            [[ $path == / ]] && break
            path=$(dirname "$path")
        done
    done
}

pg_ctl_start() {
    # fsync off: a test cluster is thrown away, durability buys nothing here.
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses='' -k $dir -c fsync=off -c synchronous_commit=off \
            -c full_page_writes=off -c max_connections=300 -c deadlock_timeout=50ms" start >/dev/null \
        || { cat "$dir/server.log" >&2; exit 1; }
}

pg_ctl_stop() {
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
}

case $action in
start)
    # A cluster left by an interrupted run is stopped and replaced.
    if [[ -d $dir/data ]]; then pg_ctl_stop 2>/dev/null || true; rm -rf "$dir"; fi
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    searchable_for_postgres "$dir"
    if [[ $(id -u) -eq 0 ]]; then
        chown postgres: "$dir"
        chmod 0755 "$dir"  # the socket's directory: clients of any user reach it
    fi
    as_owner "$bin/initdb" -D "$dir/data" -U chatgate --auth=trust --locale=C -E UTF8 \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    pg_ctl_start
    echo "postgresql://chatgate@/postgres?host=$dir"
    ;;
stop)
    [[ -d $dir/data ]] || exit 0
    pg_ctl_stop || true
    rm -rf "$dir"
    ;;
pause) pg_ctl_stop ;;
resume) pg_ctl_start ;;
restart)
    pg_ctl_stop
    pg_ctl_start
    ;;
*)
    echo "$usage" >&2
    exit 2
    ;;
esac
