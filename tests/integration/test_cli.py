#!/usr/bin/env python3
"""dnsvisd's command line and its start-up errors: each failure is one clear
sentence and a non-zero exit, and a broken config line is reported, ignored,
and does not stop the daemon."""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from dnsvis_testlib import Dnsvisd, Tap, cgroup2_root, dnsvisd_path, workdir


def run(*args, **kwargs):
    return subprocess.run([dnsvisd_path(), *args], capture_output=True, text=True, timeout=30, **kwargs)


def main():
    tap = Tap()
    r = run("--help")
    tap.check(r.returncode == 0 and "--output=journal|json" in r.stdout and "--config" in r.stdout,
              "--help describes the options", r.stdout)
    r = run("--version")
    tap.check(r.returncode == 0 and r.stdout.startswith("dnsvisd "), "--version", r.stdout)
    r = run("--output=xml")
    tap.check(r.returncode == 2 and "unknown output" in r.stderr, "a bad --output is refused", r.stderr)
    r = run("--no-such-option")
    tap.equal(r.returncode, 2, "an unknown option is refused")
    tap.check(r.stderr.startswith("dnsvisd: unrecognized option '--no-such-option'") and "--help" in r.stderr,
              "by dnsvisd's name, not the path typed, with a pointer to --help", r.stderr)
    r = run("--log-level=loud")
    tap.check(r.returncode == 2 and "err, warning, notice, info or debug" in r.stderr,
              "a bad --log-level is refused, naming the levels", r.stderr)
    r = run("--config=/nonexistent/dnsvis.conf")
    tap.check(r.returncode == 1 and "Cannot read the configuration file /nonexistent/dnsvis.conf" in r.stderr,
              "a missing --config file is named", r.stderr)
    r = run("--config=/tmp")
    tap.check(r.returncode == 1 and "Cannot read the configuration file /tmp: it is a directory" in r.stderr,
              "a --config naming a directory is refused, not read as an empty configuration", r.stderr)
    r = run("--config=")
    tap.check(r.returncode == 2 and "--config needs a file name" in r.stderr, "an empty --config is refused",
              r.stderr)

    if os.geteuid() == 0 and shutil.which("setpriv"):
        # An unprivileged user: one sentence naming the missing capabilities.
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
                            dnsvisd_path(), "--output=json", "--config=/dev/null"],
                           capture_output=True, text=True, timeout=30)
        tap.check(r.returncode == 1 and "Missing privilege" in r.stderr and "CAP_BPF" in r.stderr,
                  "without privilege: a clear message and exit 1", r.stderr)
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        tap.equal(len(lines), 1, "without privilege: exactly one line of error")

        # No cgroup2 mount (hidden in a private mount namespace): one sentence.
        root = cgroup2_root()
        r = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                            f"umount -l {root} && exec {dnsvisd_path()} --output=json --config=/dev/null"],
                           capture_output=True, text=True, timeout=30)
        tap.check(r.returncode == 1 and "No cgroup2 file system is mounted" in r.stderr,
                  "without a cgroup2 mount: a clear message and exit 1", r.stderr)

        # Broken lines are reported with file and line, and the daemon runs.
        work = workdir()
        daemon = Dnsvisd(work, "[Capture]\nPorts=53\nServerSide=perhaps\n[Transactions]\nTimeout=abc\n"
                               "[Nonsense]\nKey=1\n")
        stderr = daemon.stderr()
        tap.check("dnsvis.conf:3" in stderr and "ServerSide" in stderr, "a bad boolean is reported with its line",
                  stderr)
        tap.check("dnsvis.conf:5" in stderr and "Timeout" in stderr, "a bad time span is reported with its line",
                  stderr)
        tap.check(daemon.process.poll() is None, "the daemon runs despite a broken configuration")
        tap.equal(daemon.stop(), 0, "and stops cleanly")
        shutil.rmtree(work, ignore_errors=True)
    else:
        print("# privileged checks skipped: not root", flush=True)
    tap.finish()


if __name__ == "__main__":
    main()
