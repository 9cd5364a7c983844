#!/usr/bin/env python3
"""The real programs on other kernels than the one running: Debian 12's own
(Linux 6.1), which a distribution package of dnsvis meets on most hosts,
and 6.12 where Debian has it (Debian 13's). Their verifiers and the helpers
they allow differ from a current kernel's (6.1 refuses a cgroup_skb program
the helpers that name the current process), so the integration tests that
exercise the programs run again inside a guest that boots each kernel in
turn (guest_kernel.py), and each of their checks is relayed here:

- capture: every kind of exchange, with the client's pid, comm and exe;
- capture and exited-clients again with dnsvisd held to the capabilities
  the installed unit leaves it (CapabilityBoundingSet=), as Debian 12 with
  the package runs it: the full programs, the sender read from the task;
- capture again with dnsvisd denied CAP_PERFMON and CAP_SYS_ADMIN: on 6.1
  the plain programs run, and UDP senders are named by the sendmsg ones;
- exited-clients: the exec and fork programs;
- options: ports, server side and snap length;
- ring-full: a real ring-buffer overflow, counted;
- e2e: the Debian package installed in a systemd booted in a container,
  started, queried, its visibility rules changed over the bus and kept
  across a restart, stopped (not the flood and the frozen journald, which
  emulation cannot drive at their rates).
"""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import guest_kernel  # noqa: E402
from dnsvis_testlib import Tap, require_root_and_tools, skip  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "packaging"))
from deb_build import built_deb  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
GUEST_RUNS = [  # label, test, dnsvisd's privileges (guest_kernel.PRIVILEGES)
    ("capture", "test_capture.py", "root"),
    ("capture with the unit's capabilities", "test_capture.py", "unit"),
    ("capture without kernel reads", "test_capture.py", "no-kernel-reads"),
    ("exited-clients", "test_exited_clients.py", "root"),
    ("exited-clients with the unit's capabilities", "test_exited_clients.py", "unit"),
    ("options", "test_options.py", "root"),
    ("ring-full", "test_ring_full.py", "root"),
    ("e2e", os.path.join("..", "e2e", "test_e2e.py"), "root"),
]
E2E_STEPS = "install,start,one_query,scopes,stop"
TAP_LINE = re.compile(r"^(ok|not ok) \d+ - (.*)$")
PLAN = re.compile(r"^1\.\.(\d+)(?:\s*#\s*SKIP\s*(.*))?$")


def relay(tap, label, output, status):
    """Each of one guest test's checks as a check of ours; a guest test that
    skipped, stopped early or failed outside its checks fails here."""
    lines = output.splitlines()
    relayed = 0
    planned = None
    for index, line in enumerate(lines):
        match = TAP_LINE.match(line)
        if match:
            relayed += 1
            detail = []
            for following in lines[index + 1:]:
                if not following.startswith("#"):
                    break
                detail.append(following[1:].strip())
            tap.check(match.group(1) == "ok", f"{label}: {match.group(2)}", "\n".join(detail) or None)
            continue
        plan = PLAN.match(line)
        if plan:
            planned = int(plan.group(1))
            if plan.group(2) is not None:
                tap.check(False, f"{label}: runs in the guest", f"it skipped: {plan.group(2)}")
                return
    tap.check(status == 0 and planned == relayed and relayed > 0, f"{label}: ran to its end and passed",
              f"exit status {status}, {relayed} checks of {planned} planned\n" + "\n".join(lines[-30:]))


def boot(tap, release, kernel, commands, environment, attempts=2):
    """The guest's results, or None after a check that failed. A guest that
    powered off before it got through its commands, or whose qemu failed,
    boots once more: that has happened once in CI without a sign of it
    here, and it must not hide the relayed checks. The first failure is
    shown whole (on stderr too). A guest that ran out of time is not
    booted again: a second would take as long, past meson's limit."""
    for attempt in range(1, attempts + 1):
        guest = guest_kernel.GuestRun(kernel, commands, environment, os.getcwd())
        started = time.monotonic()
        try:
            results = guest.run()
        except RuntimeError as error:
            if attempt == attempts or isinstance(error, guest_kernel.GuestTimeout):
                tap.check(False, f"Linux {release} boots and runs the tests", f"(boot {attempt}) {error}")
                return None
            report = f"Linux {release}, boot {attempt}: the guest did not run its tests, booting again:\n{error}"
            print("\n".join(f"# {line}" for line in report.splitlines()), flush=True)
            print(report, file=sys.stderr, flush=True)
            continue
        finally:
            guest.cleanup()
        print(f"# Linux {release} under {guest_kernel.accelerator()[1]}: {time.monotonic() - started:.0f} s",
              flush=True)
        return results
    return None


def main():
    require_root_and_tools("qemu-system-x86_64", "file")
    missing = guest_kernel.missing_parts()
    if missing:
        skip(missing)
    kernels = {}
    for kernel in guest_kernel.other_kernels():
        kernels.setdefault(kernel.release, kernel)
    commands = []
    for _, script, privileges in GUEST_RUNS:
        commands.append([sys.executable, os.path.join(HERE, "guest_kernel.py"), os.path.join(HERE, script),
                         f"--privileges={privileges}"])
    environment = {key: value for key, value in os.environ.items()
                   if key.startswith(("DNSVIS", "ASAN", "UBSAN", "LSAN")) or key in ("PATH", "LANG", "HOME")}
    environment["DNSVIS_E2E_STEPS"] = E2E_STEPS
    tap = Tap()
    # The package the e2e run installs, built here (or found built) at
    # native speed; the guest sees it through the host's file system, and is
    # told which it is: a guest that judged the sources itself would build
    # the package again under emulation, in its memory, wherever its view
    # of them differed (a source edited during the run, a file Python wrote).
    try:
        environment["DNSVIS_E2E_DEB"] = built_deb(os.environ["DNSVIS_SOURCE_ROOT"], os.environ["DNSVIS_BUILD_ROOT"],
                                                  lambda text: print(f"# {text}", flush=True))
    except RuntimeError as error:
        tap.check(False, "the Debian package builds, for the e2e run in the guest", error)
    for release, kernel in kernels.items():
        results = boot(tap, release, kernel, commands, environment)
        for (label, _, _), (output, status) in zip(GUEST_RUNS, results or []):
            relay(tap, f"Linux {release}, {label}", output, status)
    tap.finish()


if __name__ == "__main__":
    main()
