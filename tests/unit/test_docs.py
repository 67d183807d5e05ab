#!/usr/bin/env python3
"""The manual holds together: the README stays an overview (at most 250 lines, the two commands
first), and every relative link in the README and docs/ leads to a file of the repository and, with
an #anchor, to a heading of that file (GitHub's anchor rules); every check has its page in
docs/checks/ with every code it reports.

    test_docs.py REPO_ROOT"""
import os
import re
import sys
import unittest

from test_sources import codes_by_check  # the same list of codes the sources test reads

ROOT = None
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def slug(heading):
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def anchors(path):
    with open(path, encoding="utf-8") as f:
        text = re.sub(r"```.*?```", "", f.read(), flags=re.S)
    return {slug(m.group(1)) for m in re.finditer(r"^#+\s+(.*)$", text, re.M)}


def pages():
    yield os.path.join(ROOT, "README.md")
    yield os.path.join(ROOT, "agent", "README.md")
    for d, _, names in os.walk(os.path.join(ROOT, "docs")):
        for n in names:
            if n.endswith(".md"):
                yield os.path.join(d, n)


class Docs(unittest.TestCase):
    def test_the_readme_is_an_overview(self):
        with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
            lines = f.read().split("\n")
        self.assertLessEqual(len(lines), 250)
        head = "\n".join(lines[:10])
        self.assertIn("bash tests/lab/run.sh", head)
        self.assertIn("bash tests/run-all.sh", head)

    def test_every_relative_link_leads_somewhere(self):
        broken = []
        checked = 0
        for page in pages():
            with open(page, encoding="utf-8") as f:
                text = re.sub(r"```.*?```", "", f.read(), flags=re.S)
            for url in LINK.findall(text):
                if re.match(r"^(https?:|mailto:)", url):
                    continue
                checked += 1
                path, _, frag = url.partition("#")
                target = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else page
                if not os.path.exists(target):
                    broken.append("%s: %s (no such file)" % (os.path.relpath(page, ROOT), url))
                elif frag and target.endswith(".md") and frag not in anchors(target):
                    broken.append("%s: %s (no such heading)" % (os.path.relpath(page, ROOT), url))
        self.assertGreater(checked, 30)
        self.assertEqual(broken, [])

    def test_every_check_has_a_page_with_every_code_it_reports(self):
        # docs/checks/NAME.md for each check in plugins/checks, naming every code of the check's prefix
        # that its sources can report (a code added without its line in the manual fails here)
        missing = []
        emitted = codes_by_check(ROOT)
        self.assertGreaterEqual(len(emitted), 10)
        for check, codes in emitted.items():
            page = os.path.join(ROOT, "docs", "checks", check + ".md")
            if not os.path.isfile(page):
                missing.append("no page docs/checks/%s.md" % check)
                continue
            with open(page, encoding="utf-8") as f:
                text = f.read()
            heads = [c.split("_")[0] + "_" for c in codes]
            prefix = max(set(heads), key=heads.count)  # the check's own prefix (AAD_, DEVICE_, MP_ ...)
            for code in sorted(codes):
                if code.startswith(prefix) and not re.search(r"\b%s\b" % code, text):
                    missing.append("%s: %s" % (check, code))
            with open(os.path.join(ROOT, "docs", "checks", "README.md"), encoding="utf-8") as f:
                if "(%s.md)" % check not in f.read():
                    missing.append("docs/checks/README.md does not list %s" % check)
        self.assertEqual(missing, [])


if __name__ == "__main__":
    ROOT = os.path.abspath(sys.argv[1])
    unittest.main(argv=sys.argv[:1], verbosity=2)
