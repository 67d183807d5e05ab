#!/usr/bin/env bash
# The main job against the local lab: installs what is missing, builds, starts the lab's healthy
# CMG double (nginx with a real PKI, tests/lab/cmg-lab.sh) and its Azure Blob collection point
# (Azurite over HTTPS, tests/lab/azurite.sh), writes a lab configuration under build/lab/, runs
# `cmgdiag selftest` with it — which probes the CMG, downloads the CMG double's content object (2 MB/s)
# and ships the bundle to Azurite — then reads
# the blob back with the Azure SDK and prints it with `cmgdiag show`. The lab is stopped at the end.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
cd "$src"
bash tests/install-deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" --target cmgdiag >/dev/null
lab="$src/build/lab"
port=${CMGDIAG_LAB_AZURITE_PORT:-10000}
cmgbase=${CMGDIAG_LAB_CMG_PORT:-18400}
cmgport=$((cmgbase + 1))
entraport=$((cmgbase + 17))
mkdir -p "$lab"
bash tests/lab/azurite.sh stop "$lab/azurite" 2>/dev/null || true
bash tests/lab/cmg-lab.sh stop "$lab/cmg" 2>/dev/null || true
# Stopped on every way out (success, a failed step, Ctrl+C), whichever of the two had started: a
# CMG double left running when Azurite cannot start would hold its ports for the next run.
trap 'bash tests/lab/azurite.sh stop "$lab/azurite" 2>/dev/null; bash tests/lab/cmg-lab.sh stop "$lab/cmg" 2>/dev/null' EXIT
trap 'exit 130' INT TERM
echo "Starting the CMG double (nginx, service name cmg.lab.test) on https://127.0.0.1:$cmgport ..."
bash tests/lab/cmg-lab.sh start "$lab/cmg" "$cmgbase"
echo "Starting Azurite (Azure Blob emulator) on https://127.0.0.1:$port ..."
bash tests/lab/azurite.sh start "$lab/azurite" "$port"
sas=$(bash tests/lab/azurite.sh sas "$lab/azurite" "$port" cmgdiag-bundles)
# The config holds a SAS URL: readable by root only, as on a device (SYSTEM and Administrators).
umask 077
cat > "$lab/cmgdiag.json" <<JSON
{
  "spool": { "dir": "$lab/spool" },
  "state_dir": "$lab/state",
  "log":   { "file": "$lab/logs/cmgdiag.log", "level": "debug" },
  "checks": {
    "cmgprobe": {
      "url": "https://cmg.lab.test:$cmgport/CCM_Proxy_MutualAuth/72057594037927939",
      "resolve": [ "cmg.lab.test:$cmgport:127.0.0.1" ],
      "ca_file": "$lab/cmg/pki/root.pem"
    },
    "content": {
      "urls": [ "https://cmg.lab.test:$cmgport/content/object" ],
      "resolve": [ "cmg.lab.test:$cmgport:127.0.0.1" ],
      "ca_file": "$lab/cmg/pki/root.pem",
      "max_bytes": 4194304
    },
    "netenv": {
      "endpoints": [ "https://login.microsoftonline.com:$entraport/", "https://device.login.microsoftonline.com:$entraport/",
                     "https://enterpriseregistration.windows.net:$entraport/" ],
      "resolve": [ "login.microsoftonline.com:$entraport:127.0.0.1", "device.login.microsoftonline.com:$entraport:127.0.0.1",
                   "enterpriseregistration.windows.net:$entraport:127.0.0.1" ],
      "root_update_urls": [ "http://127.0.0.1:$cmgbase/aia/root.cer" ],
      "ca_file": "$lab/cmg/pki/root.pem"
    }
  },
  "outputs": [
    { "type": "azblob", "sas_url": "$sas", "ca_file": "$lab/azurite/pki/ca.pem" }
  ]
}
JSON
umask 022
./build/cmgdiag version
echo
rc=0
./build/cmgdiag -c "$lab/cmgdiag.json" selftest --ticket LAB-0001 || rc=$?
echo
id=$(sed -n 's/.*spooled bundle \([0-9a-f-]\{36\}\).*/\1/p' "$lab/logs/cmgdiag.log" | tail -n 1)
received="$lab/received"
rm -rf "$received"
listing=$(bash tests/lab/azurite.sh list "$lab/azurite" "$port" cmgdiag-bundles "$received")
file=$(ls "$received"/*"$id".json.gz 2>/dev/null | head -n 1 || true)
if [ -n "$id" ] && [ -n "$file" ]; then
  name=$(printf '%s' "$listing" | tr ',' '\n' | grep -o "\"name\":\"[^\"]*$id[^\"]*\"" | cut -d'"' -f4)
  echo "The bundle landed in Azurite: container cmgdiag-bundles, blob $name"
  echo "(Content-Encoding: gzip; read back with the Azure SDK into $file)."
  echo "It reads:"
  ./build/cmgdiag show "$file" | awk 'NR <= 3 || /^Overall:/ { print "    " $0 }'
  echo
  echo "Look at it yourself:   ./build/cmgdiag show $file"
  echo "                       ./build/cmgdiag show $file --json"
else
  echo "The bundle did not reach Azurite; see the report above and $lab/logs/cmgdiag.log"
  rc=2
fi
echo "The CMG probe in full (chain, timings, revocation, MP list):"
echo "                       ./build/cmgdiag -c $lab/cmgdiag.json check cmgprobe --json"
echo "Lab config: $lab/cmgdiag.json   agent log (CMTrace format): $lab/logs/cmgdiag.log"
exit $rc
