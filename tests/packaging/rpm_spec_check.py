#!/usr/bin/env python3
"""packaging/rpm/dnsvis.spec parses with `rpmspec -P`, and its %files list
is exactly what `meson install` puts in place (so an RPM build would neither
miss a file nor list one that does not exist).

Arguments: SPEC BUILD_DIR MACRO=VALUE... (the build's own directories as rpm
macros, _prefix, _sbindir, _unitdir..., so the comparison holds for any
--prefix)."""
import fnmatch
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from dnsvis_testlib import Tap, skip


def files_section(spec_text):
    entries, inside = [], False
    for line in spec_text.splitlines():
        if line.startswith("%"):
            word = line.split()[0]
            if word == "%files":
                inside = True
                continue
            if word in ("%changelog", "%package", "%description", "%post", "%preun", "%postun", "%check"):
                inside = False
        if not inside or not line.strip() or line.startswith("#"):
            continue
        words = line.split()
        if words[0] in ("%doc", "%license", "%dir"):
            continue  # documentation is the packager's; directories are implied
        entries.append(words[-1])  # "%config(noreplace) PATH" -> PATH
    return entries


def main():
    spec, build_dir = sys.argv[1:3]
    defines = dict(argument.split("=", 1) for argument in sys.argv[3:])
    if not shutil.which("rpmspec"):
        skip("rpmspec is not installed (Debian package rpm)")
    tap = Tap()
    command = ["rpmspec", "-P", spec]
    for name, value in defines.items():
        command += ["--define", f"{name} {value}"]
    parsed = subprocess.run(command, capture_output=True, text=True)
    tap.check(parsed.returncode == 0 and "error" not in parsed.stderr.lower(), "rpmspec -P parses the spec",
              parsed.stderr)
    # %meson stays as it is where the meson macros are not installed (Debian).
    configures = re.search(r"^(%meson\b|.*\bmeson setup\b)", parsed.stdout, re.M)
    tap.check(any(line.split() == ["Name:", "dnsvis"] for line in parsed.stdout.splitlines()) and configures,
              "the parsed spec names dnsvis and builds it with meson", parsed.stdout[:400])

    listed = files_section(parsed.stdout)
    with tempfile.TemporaryDirectory(prefix="dnsvis-rpm-") as destdir:
        install = subprocess.run(["meson", "install", "-C", build_dir, "--destdir", destdir, "--no-rebuild",
                                  "--quiet"], capture_output=True, text=True)
        tap.equal(install.returncode, 0, "meson install into a scratch directory", install.stderr)
        installed = sorted("/" + os.path.relpath(os.path.join(d, f), destdir)
                           for d, _, names in os.walk(destdir) for f in names)
    unlisted = [path for path in installed if not any(fnmatch.fnmatch(path, pattern) for pattern in listed)]
    missing = [pattern for pattern in listed if not any(fnmatch.fnmatch(path, pattern) for path in installed)]
    tap.check(not unlisted, "every installed file is in %files", "\n".join(unlisted))
    tap.check(not missing, "every %files entry is installed", "\n".join(missing))
    tap.finish()


if __name__ == "__main__":
    main()
