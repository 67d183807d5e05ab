#!/usr/bin/env bash
# Records the cmgprobe data set (docs/checks/cmgprobe.md, "Transcripts"): runs the lab suites that
# probe the CMG double (tests/e2e/test_cmgprobe.py, test_mutual_tls.py) with
# CMGDIAG_RECORD_TRANSCRIPTS set, so that every case's probe is also recorded by `cmgdiag collect`,
# then replaces the NN-* folders here with what they recorded, numbered by code (the light cycle's,
# CMG_TLS_OK, with `collect --trigger schedule` after two `run --once`). Needs the lab's
# dependencies (tests/install-deps.sh) and a built ./build/cmgdiag. Run from the checkout:
#   bash tests/data/cmgprobe/record.sh
set -euo pipefail
src=$(cd "$(dirname "$0")/../../.." && pwd)
here="$src/tests/data/cmgprobe"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for suite in test_cmgprobe.py test_mutual_tls.py; do
  CMGDIAG_RECORD_TRANSCRIPTS="$out" python3 "$src/tests/e2e/$suite" "$src/build/cmgdiag" >/dev/null 2>&1 || {
    echo "record: $suite failed; run it alone to see why (nothing replaced)"
    exit 1
  }
done
# the hand-made cases ("hand_made" in expected.json: recorded under wine, by `cmgdiag collect` on a
# machine without a route, or edited where no lab gives the answer) are kept, numbered after the rest
kept=$(mktemp -d)
trap 'rm -rf "$out" "$kept"' EXIT
for d in "$here"/[0-9][0-9]-*/; do
  python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1])).get("hand_made") else 1)' "$d/expected.json" &&
    cp -r "$d" "$kept/$(basename "$d" | cut -d- -f2-)"
done
find "$here" -mindepth 1 -maxdepth 1 -type d -name '[0-9][0-9]-*' -exec rm -r {} +
n=0
for d in $(cd "$out" && for c in *; do printf '%s %s\n' "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["code"])' "$c/expected.json")" "$c"; done | sort | cut -d' ' -f2); do
  n=$((n + 1))
  cp -r "$out/$d" "$here/$(printf '%02d' "$n")-$d"
done
for d in $(ls "$kept"); do
  n=$((n + 1))
  cp -r "$kept/$d" "$here/$(printf '%02d' "$n")-$d"
done
echo "record: $n transcripts in $here ($(ls "$kept" | wc -l) hand-made kept)"
