"""Recording cmgprobe transcripts for the data tests (tests/data/cmgprobe, docs/checks/cmgprobe.md
"Transcripts"). With CMGDIAG_RECORD_TRANSCRIPTS=FOLDER, test_cmgprobe.py and test_mutual_tls.py also
run `cmgdiag collect --only cmgprobe` on each case's configuration against the lab and keep the
transcript with the verdict it gave: tests/data/cmgprobe/record.sh makes the data set that way.
Without the variable nothing happens."""
import json
import os
import re
import shutil
import sys
import tempfile

from test_cli import native_path

FILE_KEYS = ("ca_file", "client_cert", "client_key")


def record(run, cfg_path, test_id, result, trigger=None):
    """trigger "schedule": recorded as a scheduled cycle runs (cmgprobe's light cycle)."""
    root = os.environ.get("CMGDIAG_RECORD_TRANSCRIPTS")
    if not root:
        return
    with open(cfg_path) as f:
        settings = json.load(f)["checks"]["cmgprobe"]
    work = tempfile.mkdtemp(prefix="cmgdiag-record-")
    snap = os.path.join(work, "snap")
    try:
        rc, out, err = run("-c", native_path(cfg_path), "collect", "--only", "cmgprobe", "--out", native_path(snap),
                           "--json", *(("--trigger", trigger) if trigger else ()))
        if rc != 0:
            print("record: %s: collect exited %d: %s" % (test_id, rc, err[-300:]), file=sys.stderr)
            return
        entry = json.loads(out)["checks"]["cmgprobe"]
        # only a case that gave the same verdict again, and that its transcript reproduces
        if entry["code"] != result["code"] or entry["judged_from"] != "capture":
            print("record: %s: not kept (%s, judged from %s: %s)" % (test_id, entry["code"], entry["judged_from"],
                                                                    entry.get("why", "")), file=sys.stderr)
            return
        # a case whose answers are megabytes (the hostile server's floods) stays a live test only
        if os.path.getsize(os.path.join(snap, "cmgprobe", "transcript.json")) > 256 * 1024:
            return
        name = re.sub(r"[^a-z0-9]+", "-", test_id.split(".")[-1].lower()).strip("-")
        dest, k = os.path.join(root, name), 1
        while os.path.exists(dest):
            k += 1
            dest = os.path.join(root, "%s-%d" % (name, k))
        os.makedirs(dest)
        shutil.copyfile(os.path.join(snap, "cmgprobe", "transcript.json"), os.path.join(dest, "transcript.json"))
        expected = {"status": entry["status"], "code": entry["code"], "recorded_by": test_id,
                    "settings": {k: v for k, v in settings.items() if k not in FILE_KEYS},
                    "files": sorted(k for k in FILE_KEYS if settings.get(k))}
        with open(os.path.join(dest, "expected.json"), "w") as f:
            json.dump(expected, f, indent=1)
            f.write("\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)
