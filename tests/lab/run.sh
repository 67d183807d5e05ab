#!/usr/bin/env bash
# The main job against the local lab: installs what is missing, builds, writes a lab
# configuration under build/lab/ and runs `cmgdiag selftest` with it.
# (The lab grows with the product: the nginx CMG double and the Azurite collection point join it
# with the cmgprobe and shipping features; today the selftest runs the built-in `agent` check.)
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
cd "$src"
bash tests/install-deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" --target cmgdiag >/dev/null
lab="$src/build/lab"
mkdir -p "$lab"
cat > "$lab/cmgdiag.json" <<JSON
{
  "spool": { "dir": "$lab/spool" },
  "log":   { "file": "$lab/logs/cmgdiag.log", "level": "debug" },
  "checks": { "agent": { "enabled": true } },
  "outputs": []
}
JSON
./build/cmgdiag version
echo
rc=0
./build/cmgdiag -c "$lab/cmgdiag.json" selftest --no-upload || rc=$?
echo
echo "Lab config: $lab/cmgdiag.json   agent log (CMTrace format): $lab/logs/cmgdiag.log"
exit $rc
