#!/usr/bin/env python3
"""The shipped PowerShell scripts (every .ps1 under packaging/) against the traps of Windows
PowerShell 5.1, the PowerShell Intune and ConfigMgr run:

- `$ErrorActionPreference = 'Stop'` with a native program whose standard error is redirected
  (`2>$null`, `2>&1`): in 5.1 each standard-error line becomes an error record and ends the script
  (PowerShell issues 3996 and 4002; changed in 7.1 and later). A native call under 'Stop' must run
  in a script block that sets 'Continue' for itself.
- A script that reads a native program's output without `[Console]::OutputEncoding` set to UTF-8:
  5.1 decodes cmgdiag's UTF-8 with the OEM code page.
- `Write-Host` for a result: Intune and ConfigMgr keep standard output; Write-Host is the host's.
- A native program's exit code read but never turned into the script's own `exit`.

No PowerShell can be installed from the package registries this project reaches (Debian's archive
has none, npm has none), so the scripts are linted here, not run (docs/deployment.md).

    test_powershell.py [SCRIPT.ps1 ...]     (default: every .ps1 under packaging/)"""
import glob
import os
import re
import sys
import unittest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
NATIVE = re.compile(r"&\s*(\$exe\b|[\w.\\:-]+\.exe\b)", re.I)
STOP = re.compile(r"^\s*\$ErrorActionPreference\s*=\s*'Stop'", re.I | re.M)
CONTINUE = re.compile(r"\$ErrorActionPreference\s*=\s*'(Continue|SilentlyContinue)'", re.I)
ENCODING = re.compile(r"\[Console\]::OutputEncoding\s*=\s*\[(System\.)?Text\.Encoding\]::UTF8", re.I)


def code_lines(text):
    """The script's lines with comments blanked (a # outside quotes to the end of the line)."""
    out = []
    for line in text.splitlines():
        q = None
        for i, c in enumerate(line):
            if c in "'\"" and q in (None, c):
                q = None if q else c
            elif c == "#" and not q:
                line = line[:i]
                break
        out.append(line)
    return out


def problems(name, text):
    """Every 5.1 trap in one script, as sentences."""
    found = []
    lines = code_lines(text)
    natives = [(i, l) for i, l in enumerate(lines) if NATIVE.search(l)]
    stop_at = [i for i, l in enumerate(lines) if STOP.match(l)]
    for i, l in natives:
        if "2>" not in l or not any(s < i for s in stop_at):
            continue
        # the nearest script block opened above (or on this line) must set Continue for itself
        block = i
        while block >= 0 and "{" not in lines[block]:
            block -= 1
        if not any(CONTINUE.search(x) for x in lines[max(block, 0):i + 1]):
            found.append("%s:%d: a native call with its standard error redirected under "
                         "$ErrorActionPreference = 'Stop' ends the script in Windows PowerShell 5.1 at its first "
                         "standard-error line: run it in & { $ErrorActionPreference = 'Continue'; ... }" % (name, i + 1))
    first_native = natives[0][0] if natives else None
    if first_native is not None:
        enc = [i for i, l in enumerate(lines) if ENCODING.search(l)]
        if not enc or enc[0] > first_native:
            found.append("%s: reads a native program's output without [Console]::OutputEncoding = "
                         "[Text.Encoding]::UTF8 first (5.1 decodes it with the OEM code page)" % name)
    for i, l in enumerate(lines):
        if re.search(r"\bWrite-Host\b", l, re.I):
            found.append("%s:%d: Write-Host is not standard output: Intune and ConfigMgr do not keep it; use "
                         "Write-Output" % (name, i + 1))
    if any("$LASTEXITCODE" in l for l in lines) and not any(re.search(r"\bexit\b", l) for l in lines):
        found.append("%s: reads $LASTEXITCODE but never exits with a code of its own" % name)
    return found


# The traps as they were shipped (150e003): the lint must find each.
OLD_DETECT = """$ErrorActionPreference = 'Stop'
$exe = Join-Path $env:ProgramFiles 'cmgdiag\\cmgdiag.exe'
$line = & $exe validate --profile pre-upgrade 2>$null | Select-Object -Last 1
$code = $LASTEXITCODE
Write-Output $line
if ($code -eq 0) { exit 0 }
exit 1
"""
OLD_REMEDIATE = """[Console]::OutputEncoding = [Text.Encoding]::UTF8
$ErrorActionPreference = 'Stop'
$exe = 'x'
$json = & $exe validate --profile pre-upgrade --json 2>$null | Out-String
Write-Host $json
"""


class PowerShell(unittest.TestCase):
    def test_the_lint_finds_each_trap(self):
        p = problems("old-detect.ps1", OLD_DETECT)
        self.assertTrue(any(":3: a native call" in x for x in p), p)
        self.assertTrue(any("OutputEncoding" in x for x in p), p)
        p = problems("old-remediate.ps1", OLD_REMEDIATE)
        self.assertTrue(any(":4: a native call" in x for x in p), p)
        self.assertTrue(any("Write-Host" in x for x in p), p)
        self.assertFalse(any("OutputEncoding" in x for x in p), p)
        # the fix: the call in its own block with Continue; a comment is not code
        good = OLD_DETECT.replace("$line = & $exe validate --profile pre-upgrade 2>$null",
                                  "$line = & {\n    $ErrorActionPreference = 'Continue'\n"
                                  "    & $exe validate --profile pre-upgrade 2>&1 }")
        good = "[Console]::OutputEncoding = [Text.Encoding]::UTF8\n" + good
        self.assertEqual(problems("good.ps1", good), [])
        self.assertEqual(problems("c.ps1", "# Write-Host is not used\nWrite-Output 'x' # Write-Host\n"), [])

    def test_every_shipped_script(self):
        scripts = sys.argv[1:] or sorted(glob.glob(os.path.join(ROOT, "packaging", "**", "*.ps1"), recursive=True))
        self.assertGreaterEqual(len(scripts), 3)
        found = []
        for s in scripts:
            with open(s, encoding="utf-8-sig") as f:
                found += problems(os.path.relpath(s, ROOT), f.read())
        self.assertEqual(found, [], "\n".join(found))


if __name__ == "__main__":
    files = [a for a in sys.argv[1:] if a.endswith(".ps1")]
    sys.argv = [sys.argv[0]] + files
    unittest.main(argv=[sys.argv[0]], verbosity=2)
