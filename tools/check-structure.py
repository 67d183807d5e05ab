#!/usr/bin/env python3
"""The structure rules of the code base (agent/README.md), checked in CI (.ci/run):
- no C file over 800 lines and no function over 120 lines;
- `_WIN32` only under agent/platform/ (the rest of the code is the same on every platform);
- no two headers with the same name;
- comments and data cite documents inside the repository, never DOMAIN.md, CONTRACT.md or ../shared.

    tools/check-structure.py [ROOT]      exit 1 and one line per breach"""
import os
import re
import subprocess
import sys

MAX_FILE, MAX_FUNC = 800, 120


def tracked(root, *patterns):
    out = subprocess.run(["git", "-C", root, "ls-files", "--", *patterns], capture_output=True, text=True, check=True)
    return [p for p in out.stdout.split("\n") if p]


def functions(text):
    """(name, first line, length) of each function definition: a line at column 0 that opens a
    parameter list, whose body opens with '{' at the end of that line (or the next) and closes with
    '}' at column 0."""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^[A-Za-z_][\w \*]*?\b(\w+)\s*\(", line)
        if m and not line.startswith(("typedef", "struct ", "enum ", "union ")) or (
                m and line.startswith(("struct ", "enum ")) and "(" in line and not line.rstrip().endswith(";")):
            j = i
            while j < len(lines) and not lines[j].rstrip().endswith("{") and ";" not in lines[j] \
                    and "}" not in lines[j] and j - i < 8:
                j += 1
            if j < len(lines) and lines[j].rstrip().endswith("{") and "=" not in lines[i].split("(")[0] \
                    and not any("}" in lines[x] or ";" in lines[x] for x in range(i, j)):
                k = j + 1
                while k < len(lines) and not lines[k].startswith("}"):
                    k += 1
                yield m.group(1), i + 1, k - i + 1
                i = k
        i += 1


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
    bad = []
    sources = tracked(root, "*.c", "*.h")
    for p in sources:
        with open(os.path.join(root, p), encoding="utf-8", errors="replace") as f:
            text = f.read()
        n = text.count("\n")
        if n > MAX_FILE and not p.startswith("tests/"):
            bad.append("%s: %d lines (at most %d)" % (p, n, MAX_FILE))
        if p.endswith(".c") and not p.startswith("tests/"):
            for name, line, length in functions(text):
                if length > MAX_FUNC:
                    bad.append("%s:%d: function %s is %d lines (at most %d)" % (p, line, name, length, MAX_FUNC))
        if not p.startswith(("agent/platform/", "tests/", "packaging/")) and re.search(r"\b_WIN32\b", text):
            bad.append("%s: _WIN32 outside agent/platform (put the difference behind a platform function)" % p)
    names = {}
    for p in sources:
        if p.endswith(".h") and not p.startswith("tests/"):
            names.setdefault(os.path.basename(p), []).append(p)
    for n, ps in sorted(names.items()):
        if len(ps) > 1:
            bad.append("two headers named %s: %s" % (n, ", ".join(ps)))
    for p in tracked(root, "*.c", "*.h", "*.py", "*.sh", "*.json", "*.md", "CMakeLists.txt", "*.cmake"):
        if p.startswith("tools/check-structure.py"):
            continue
        with open(os.path.join(root, p), encoding="utf-8", errors="replace") as f:
            for no, line in enumerate(f, 1):
                if re.search(r"\bDOMAIN\.md\b|\bCONTRACT\.md\b|\.\./shared\b", line):
                    bad.append("%s:%d: cites a document outside the repository (use docs/)" % (p, no))
    for b in bad:
        print(b)
    print("structure: %d breach(es)" % len(bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
