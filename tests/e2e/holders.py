"""Which processes hold a TCP connection to a port (Linux /proc): the privilege separation tests find
the process that talks to a server this way, then read its uid, NoNewPrivs and seccomp state."""
import glob
import os
import re


def holders(port):
    """Processes with an established TCP connection to 127.0.0.1:port: {pid: /proc/PID/status text}."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            if cols[3] == "01" and int(cols[2].split(":")[1], 16) == port:
                inodes.add(cols[9])
    found = {}
    for fd in glob.glob("/proc/[0-9]*/fd/*"):
        try:
            m = re.match(r"socket:\[(\d+)\]", os.readlink(fd))
            if m and m.group(1) in inodes:
                pid = int(fd.split("/")[2])
                with open("/proc/%d/status" % pid) as f:
                    found[pid] = f.read()
        except OSError:
            pass
    return found
