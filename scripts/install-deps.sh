#!/usr/bin/env bash
# Installs what chatgate needs to build, test or benchmark, only where it is missing.
#   scripts/install-deps.sh build|test|bench
# Debian 12 packages through apt-get; the docs page assets through `npm ci` from the lock.
set -euo pipefail
cd "$(dirname "$0")/.."

build_pkgs=(g++ make cmake ninja-build pkg-config gzip ca-certificates
    libboost1.81-dev libboost-json1.81-dev
    libsodium-dev libssl-dev libsqlite3-dev libpq-dev libcli11-dev libicu-dev python3-django)
# clang and its libFuzzer runtime build the ASan+UBSan build with the fuzz targets; ccache makes
# rebuilds cheap; clang-format-14 is what the format check (and `make format`) runs.
test_pkgs=(libgtest-dev python3 python3-pytest python3-requests python3-yaml chromium openssl
    clang-14 libclang-rt-14-dev ccache clang-format-14 postgresql-15)
# linux-perf: profiling where a request's time goes (perf record -g -p PID); postgresql-15 for
# bench/postgresql.sh's private database.
bench_pkgs=(nginx wrk linux-perf postgresql-15)

want=("${build_pkgs[@]}")
case "${1:-build}" in
    build) ;;
    test) want+=("${test_pkgs[@]}") ;;
    bench) want+=("${bench_pkgs[@]}") ;;
    *) echo "usage: $0 build|test|bench" >&2; exit 2 ;;
esac
# Node.js may come from elsewhere on a developer machine; only add Debian's when there is none.
command -v npm >/dev/null || want+=(nodejs npm)

missing=()
for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "installing: ${missing[*]}"
    sudo_cmd=()
    [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
fi

# Page assets for the docs, pinned by package-lock.json; reinstalled only when the lock changes.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
