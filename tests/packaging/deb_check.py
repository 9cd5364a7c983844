#!/usr/bin/env python3
"""The Debian package built by packaging/build-deb: lintian reports no
error (its warnings are shown), and it holds what an operator needs: the
daemon and dnsvisctl, the unit (enabled by debhelper's maintainer scripts),
the bus and polkit policies, the catalog, the man pages and the conffile."""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from dnsvis_testlib import Tap, skip

sys.path.insert(0, os.path.dirname(__file__))
from deb_build import built_deb
from package_environment import project_version

EXPECTED = [
    "usr/sbin/dnsvisd",
    "usr/bin/dnsvisctl",
    "lib/systemd/system/dnsvis.service",
    "usr/lib/systemd/catalog/dnsvis.catalog",
    "etc/dnsvis/dnsvis.conf",
    "usr/share/dbus-1/system.d/org.dnsvis1.conf",
    "usr/share/dbus-1/system-services/org.dnsvis1.service",
    "usr/share/polkit-1/actions/org.dnsvis1.policy",
    "usr/share/man/man8/dnsvisd.8.gz",
    "usr/share/man/man1/dnsvisctl.1.gz",
    "usr/share/man/man5/dnsvis.conf.5.gz",
    "usr/share/man/man5/org.dnsvis1.5.gz",
    "usr/share/doc/dnsvis/examples/dnsvis-journal-upload.service",
    "usr/share/doc/dnsvis/examples/dnsvis-journal-upload.timer",
]


def main():
    for tool in ("dpkg-buildpackage", "dh", "lintian"):
        if not shutil.which(tool):
            skip(f"{tool} is not installed (Debian packages dpkg-dev, debhelper, lintian)")
    tap = Tap()
    try:
        deb = built_deb(os.environ["DNSVIS_SOURCE_ROOT"], os.environ["DNSVIS_BUILD_ROOT"],
                        lambda text: print(f"# {text}", flush=True))
    except RuntimeError as error:
        tap.check(False, "packaging/build-deb builds the package", error)
        tap.finish()
    version = project_version(os.environ["DNSVIS_BUILD_ROOT"])
    control = subprocess.run(["dpkg-deb", "-f", deb, "Package", "Version"], capture_output=True, text=True)
    tap.equal(control.stdout.split(), ["Package:", "dnsvis", "Version:", version],
              "packaging/build-deb builds the package: dnsvis, at the project's version", control.stderr)
    contents = subprocess.run(["dpkg-deb", "--fsys-tarfile", deb], capture_output=True, check=True).stdout
    listing = subprocess.run(["tar", "-t"], input=contents, capture_output=True, check=True).stdout.decode()
    paths = {line.removeprefix("./").rstrip("/") for line in listing.splitlines()}
    for path in EXPECTED:
        tap.check(path in paths, f"the package installs /{path}")

    conffiles = subprocess.run(["dpkg-deb", "-I", deb, "conffiles"], capture_output=True, text=True).stdout
    tap.check("/etc/dnsvis/dnsvis.conf" in conffiles.split(), "/etc/dnsvis/dnsvis.conf is a conffile", conffiles)
    postinst = subprocess.run(["dpkg-deb", "-I", deb, "postinst"], capture_output=True, text=True).stdout
    tap.check("deb-systemd-helper" in postinst and "dnsvis.service" in postinst,
              "dh_installsystemd enables dnsvis.service in postinst", postinst)

    # lintian warns when run as root, which has nothing to do with the package.
    lint = subprocess.run(["lintian", "--no-cfg", "--display-level", ">=warning", deb],
                          capture_output=True, text=True)
    tags = [line for line in (lint.stdout + lint.stderr).splitlines() if line[:2] in ("E:", "W:")]
    for tag in tags:
        print(f"# lintian: {tag}", flush=True)
    errors = [t for t in tags if t.startswith("E:")]
    tap.check(not errors, "lintian reports no error", "\n".join(errors))
    tap.check(lint.returncode in (0, 1) and "internal error" not in lint.stderr.lower(),
              "lintian ran to the end", lint.stderr)
    tap.finish()


if __name__ == "__main__":
    main()
