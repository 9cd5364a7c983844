#!/usr/bin/env python3
"""Every manual page passes `groff -ww -man -z` and `mandoc -T lint` without
a single message: both print nothing for a clean page."""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from dnsvis_testlib import Tap, skip


def main():
    pages = sys.argv[1:]
    for tool in ("groff", "mandoc"):
        if not shutil.which(tool):
            skip(f"{tool} is not installed (Debian package {tool})")
    tap = Tap()
    for page in pages:
        name = os.path.basename(page)
        groff = subprocess.run(["groff", "-ww", "-man", "-z", page], capture_output=True, text=True)
        tap.check(groff.returncode == 0 and not groff.stdout and not groff.stderr,
                  f"groff -ww -man -z {name}: no warning", groff.stdout + groff.stderr)
        mandoc = subprocess.run(["mandoc", "-T", "lint", page], capture_output=True, text=True)
        tap.check(mandoc.returncode == 0 and not mandoc.stdout and not mandoc.stderr,
                  f"mandoc -T lint {name}: no message", mandoc.stdout + mandoc.stderr)
        # The page must render: an empty NAME section is the usual slip.
        text = subprocess.run(["mandoc", "-T", "utf8", page], capture_output=True, text=True).stdout
        text = re.sub(".\b", "", text)  # bold and underline are overstruck
        tap.check("NAME" in text and "SEE ALSO" in text and len(text) > 500, f"{name} renders with NAME and SEE ALSO")
    tap.finish()


if __name__ == "__main__":
    main()
