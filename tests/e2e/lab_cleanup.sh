#!/usr/bin/env bash
# The lab's scripts stop what they started on every way out: a start that fails (here: its port is
# taken) leaves no process behind and no port held, so the next run does not fail on "address
# already in use". (tests/lab/run.sh sets its stop trap before it starts anything.)
#   lab_cleanup.sh
set -u
here=$(cd "$(dirname "$0")" && pwd)
lab="$here/../lab"
tmp=$(mktemp -d)
fail=0
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
occupy() { # PORT: a listener that holds it until killed
  "$py" -c 'import socket,sys,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(5); time.sleep(600)' "$1" >/dev/null 2>&1 &
  echo $!
}
can_bind() { "$py" -c 'import socket,sys; s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1])))' "$1" 2>/dev/null; }
# A base for the CMG double whose 26 ports are all free, below the ephemeral range (32768-60999),
# where outgoing connections of other tests cannot take one in the meantime.
free_base() {
  "$py" - <<'PY'
import random, socket
for _ in range(200):
    base = random.randrange(20000, 32000)
    try:
        for p in range(base, base + 26):
            with socket.socket() as s:
                s.bind(("127.0.0.1", p))
        print(base)
        break
    except OSError:
        pass
PY
}
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }
cleanup() { kill "${holders[@]}" 2>/dev/null; bash "$lab/cmg-lab.sh" stop "$tmp/cmg" >/dev/null 2>&1
  bash "$lab/azurite.sh" stop "$tmp/az" >/dev/null 2>&1; rm -rf "$tmp"; }
holders=()
trap cleanup EXIT

# Azurite on a port someone else holds: start fails, and the Azurite it started is gone
port=$(free_port)
holders+=("$(occupy "$port")")
sleep 0.3
bash "$lab/azurite.sh" start "$tmp/az" "$port" >"$tmp/az.out" 2>&1
rc=$?
check "azurite.sh start fails when its port is taken (exit $rc)" '[ $rc -ne 0 ]'
check "no Azurite of this lab left running" '! pgrep -af "$tmp/az/data"'

# The CMG double started and stopped: nothing left (openssl ocsp -multi's workers were, before)
base=$(free_base)
timeout 120 bash "$lab/cmg-lab.sh" start "$tmp/ok" "$base" >"$tmp/ok.out" 2>&1
check "cmg-lab.sh starts" '[ $? -eq 0 ] || { cat "$tmp/ok.out"; false; }'
bash "$lab/cmg-lab.sh" stop "$tmp/ok"
sleep 0.5
check "after stop no process of that lab is left" '! pgrep -af "$tmp/ok/"'

# The CMG double with one of its ports taken: start fails, and nothing it started holds a port
base=$(free_base)
holders+=("$(occupy $((base + 1)))")
sleep 0.3
timeout 120 bash "$lab/cmg-lab.sh" start "$tmp/cmg" "$base" >"$tmp/cmg.out" 2>&1
rc=$?
check "cmg-lab.sh start fails when a port is taken (exit $rc)" '[ $rc -ne 0 ]'
sleep 0.5
check "no nginx, backend or OCSP responder of this lab left running" '! pgrep -af "$tmp/cmg/"'
for p in $base $((base + 2)) $((base + 11)) $((base + 18)); do
  check "port $p is free again" "can_bind $p"
done
exit $fail
