#!/usr/bin/env bash
# Fails when a C++ file is not as clang-format-14 (with .clang-format) would write it; lists
# each such file and the first differences. `make format` rewrites them.
#   tests/lint/check_format.sh [CLANG_FORMAT]
set -uo pipefail
cd "$(dirname "$0")/../.."
clang_format=${1:-clang-format-14}
command -v "$clang_format" >/dev/null || { echo "$clang_format is not installed" >&2; exit 2; }
# The tracked files; outside a git checkout (an exported tree), every C++ file in the tree.
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' 2>/dev/null)
if ((${#files[@]} == 0)); then
    mapfile -t files < <(find . -path ./node_modules -prune -o -path './build*' -prune -o \
        \( -name '*.cpp' -o -name '*.hpp' \) -type f -print | sed 's|^\./||' | sort)
fi
bad=()
for f in "${files[@]}"; do
    "$clang_format" --dry-run --Werror "$f" 2>/dev/null || bad+=("$f")
done
if ((${#bad[@]})); then
    echo "${#bad[@]} of ${#files[@]} files are not formatted (make format fixes them):"
    for f in "${bad[@]}"; do
        echo "  $f"
        "$clang_format" --dry-run "$f" 2>&1 | head -n 6 | sed 's/^/    /'
    done
    exit 1
fi
echo "all ${#files[@]} C++ files are formatted"
