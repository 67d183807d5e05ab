#!/usr/bin/env bash
# Every tracked C file is formatted by clang-format with the repository's .clang-format (CI: the unit
# tier). Fix with:  git ls-files '*.c' '*.h' | xargs clang-format -i
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "clang-format is not installed (tests/install-deps.sh all)"; exit 1; }
out=$(git ls-files '*.c' '*.h' | xargs clang-format --dry-run -Werror 2>&1 || true)
n=$(printf '%s\n' "$out" | grep -c 'error:' || true)
[ "$n" -eq 0 ] || { printf '%s\n' "$out" | grep 'error:' | head -20; echo "format: $n place(s) differ from clang-format"; exit 1; }
echo "format: $(git ls-files '*.c' '*.h' | wc -l) files as clang-format writes them"
