#!/usr/bin/env python3
"""The RPM package built by packaging/build-rpm from a tarball of the
sources: the build runs the unit tests (%check) and passes them, and the
package holds what an operator needs (the daemon and dnsvisctl that run and
say their version, the unit with scriptlets that preset, stop and restart
it, the bus and polkit policies, the catalog, the man pages and the config
file, kept on upgrade), with its library dependencies found by rpm.

On Debian the RPM distributions' meson and systemd macros are stand-ins
(packaging/rpm/stand-in.macros) and rpm cannot see the build dependencies
dpkg installed; what is checked here is the spec, the tarball and the
build, not a Fedora host's macros."""
import glob
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from dnsvis_testlib import Tap, skip

sys.path.insert(0, os.path.dirname(__file__))
from package_environment import package_build_environment, project_version

EXPECTED = [
    "/usr/sbin/dnsvisd",
    "/usr/bin/dnsvisctl",
    "/usr/lib/systemd/system/dnsvis.service",
    "/usr/lib/systemd/catalog/dnsvis.catalog",
    "/etc/dnsvis/dnsvis.conf",
    "/usr/share/dbus-1/system.d/org.dnsvis1.conf",
    "/usr/share/dbus-1/system-services/org.dnsvis1.service",
    "/usr/share/polkit-1/actions/org.dnsvis1.policy",
    "/usr/share/man/man8/dnsvisd.8",
    "/usr/share/man/man1/dnsvisctl.1",
    "/usr/share/man/man5/dnsvis.conf.5",
    "/usr/share/man/man5/org.dnsvis1.5",
]


def query(rpm, *arguments):
    return subprocess.run(["rpm", "-qp", *arguments, rpm], capture_output=True, text=True, check=True).stdout


def scriptlet(scripts, name):
    """The body of one scriptlet in `rpm -qp --scripts` output."""
    body, inside = [], False
    for line in scripts.splitlines():
        if line.endswith("scriptlet (using /bin/sh):"):
            inside = line.startswith(name + " ")
            continue
        if inside:
            body.append(line)
    return "\n".join(body)


def main():
    for tool in ("rpmbuild", "rpmspec", "rpm2cpio", "cpio"):
        if not shutil.which(tool):
            skip(f"{tool} is not installed (Debian packages rpm, rpm2cpio, cpio)")
    source_root, build_root = os.environ["DNSVIS_SOURCE_ROOT"], os.environ["DNSVIS_BUILD_ROOT"]
    version = project_version(build_root)
    tap = Tap()
    out = os.path.join(build_root, "packaging", "test-rpm")
    build = subprocess.run([os.path.join(source_root, "packaging", "build-rpm"), out],
                           env=package_build_environment(), capture_output=True, text=True)
    log = build.stdout + build.stderr
    tap.check(build.returncode == 0, "packaging/build-rpm builds the package", log[-4000:])
    rpms = glob.glob(os.path.join(out, f"dnsvis-{version}-*.rpm"))
    tap.equal(len(rpms), 1, f"one package, dnsvis-{version}", os.listdir(out) if os.path.isdir(out) else None)
    if build.returncode != 0 or len(rpms) != 1:
        tap.finish()
    rpm = rpms[0]

    check = log[log.find("Executing(%check)"):] if "Executing(%check)" in log else ""
    passed = [line.split()[1] for line in check.splitlines() if line.startswith("Ok:")]
    failed = [line.split()[1] for line in check.splitlines() if line.startswith("Fail:")]
    tap.check(passed and int(passed[0]) > 0 and failed == ["0"],
              "%check ran the unit tests in the package build and they passed", check[-2000:] or log[-2000:])

    tap.equal(query(rpm, "--qf", "%{NAME} %{VERSION}"), f"dnsvis {version}", "name and version")
    files = set(query(rpm, "-l").split())
    for path in EXPECTED:
        # Manual pages compressed or not, as the distribution's brp-compress has it.
        tap.check(path in files or (path.startswith("/usr/share/man/") and path + ".gz" in files),
                  f"the package installs {path}")
    flags = dict(line.rsplit(" ", 1) for line in query(rpm, "--qf", "[%{FILENAMES} %{FILEFLAGS:fflags}\n]")
                 .splitlines() if " " in line)
    tap.equal(flags.get("/etc/dnsvis/dnsvis.conf"), "cn",
              "/etc/dnsvis/dnsvis.conf is a config file an upgrade does not replace (%config(noreplace))")

    scripts = query(rpm, "--scripts")
    tap.check("preset dnsvis.service" in scriptlet(scripts, "postinstall") and
              "journalctl --update-catalog" in scriptlet(scripts, "postinstall"),
              "postinstall presets dnsvis.service and updates the journal catalog", scripts)
    tap.check("disable --now dnsvis.service" in scriptlet(scripts, "preuninstall"),
              "preuninstall stops and disables dnsvis.service on removal", scripts)
    tap.check("try-restart dnsvis.service" in scriptlet(scripts, "postuninstall"),
              "postuninstall restarts dnsvis.service after an upgrade", scripts)

    requires = query(rpm, "--requires").split("\n")
    tap.check("dbus" in requires and any(r.startswith("libbpf.so.1") for r in requires) and
              any(r.startswith("libsystemd.so.0") for r in requires),
              "it requires dbus, and libbpf and libsystemd as found in the binaries", "\n".join(requires))

    with tempfile.TemporaryDirectory(prefix="dnsvis-rpm-") as root:
        payload = subprocess.run(["rpm2cpio", rpm], capture_output=True, check=True).stdout
        subprocess.run(["cpio", "-idm", "--quiet"], input=payload, cwd=root, check=True)
        for program in ("usr/sbin/dnsvisd", "usr/bin/dnsvisctl"):
            ran = subprocess.run([os.path.join(root, program), "--version"], capture_output=True, text=True)
            tap.equal(ran.stdout.strip(), f"{os.path.basename(program)} {version}",
                      f"the packaged {os.path.basename(program)} runs and says its version", ran.stderr)
        with open(os.path.join(root, "usr/lib/systemd/system/dnsvis.service")) as unit:
            exec_start = [line for line in unit.read().splitlines() if line.startswith("ExecStart=")]
        tap.check(exec_start and exec_start[0].split("=", 1)[1].split()[0] == "/usr/sbin/dnsvisd",
                  "the unit starts the packaged /usr/sbin/dnsvisd", exec_start)
    tap.finish()


if __name__ == "__main__":
    main()
