#!/usr/bin/env python3
"""dnsvis as an operator meets it: the Debian package installed in a booted
systemd (a container over an overlay of /), started with systemctl, asked
over the bus, read with journalctl, flooded with 40,000 queries, run while
journald is frozen, stopped. The guest-kernel test runs it again, but for
the flood and the frozen journald, on Debian 12's own kernel.

Order matters: each step leaves the service in the state the next expects.
"""
import json
import os
import re
import shutil
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "packaging"))
from booted_systemd import boot_systemd
from dnsvis_testlib import NSD_ADDRESS, Tap, patience, require_root_and_tools, skip
from deb_build import built_deb

sys.path.insert(0, HERE)
from container_nsd import start_container_nsd

MANAGER = ["org.dnsvis1", "/org/dnsvis1", "org.dnsvis1.Manager"]
ID_TRANSACTION = "44f8838485b245d4ac2a7d9509a49043"
ID_SUMMARY = "6865af7173214451bda6f168d9555bf0"
CAP_SYS_PTRACE = 19
BURST = 40_000
BURST_QPS = 20_000  # 40,000 queries in two seconds
FROZEN_QUERIES = 12_000  # sent in three seconds while journald is stopped
STALL_SECONDS = 5  # how long dnsvisd waits for a journald that takes nothing
NSD_DIR = "/srv/dnsvis-e2e-nsd"  # inside the container
RUN = uuid.uuid4().hex[:8]  # names of this run only


class Operator:
    """Commands inside the booted container, as an operator types them."""

    def __init__(self, container):
        self.container = container

    def run(self, *command, timeout=60):
        return self.container.run(*command, check=False, timeout=patience(timeout))

    def journal(self, *matches, fields=None):
        command = ["journalctl", "--no-pager", "-o", "json", *matches]
        if fields:
            command.append("--output-fields=" + ",".join(fields))
        out = self.run(*command, timeout=300).stdout
        return [json.loads(line) for line in out.splitlines() if line.startswith("{")]

    def wait_journal(self, *matches, count=1, timeout=15):
        deadline = time.monotonic() + patience(timeout)
        while True:
            found = self.journal(*matches)
            if len(found) >= count or time.monotonic() >= deadline:
                return found
            time.sleep(0.3)

    def busctl(self, *arguments):
        """busctl --json=short call/get-property on the manager; (returncode, data or stderr)."""
        verb, rest = arguments[0], arguments[1:]
        result = self.run("busctl", "--json=short", verb, *MANAGER, *rest)
        if result.returncode != 0:
            return result.returncode, result.stderr.strip()
        text = result.stdout.strip()
        return 0, json.loads(text)["data"] if text else None

    def query_from_unit(self, unit, name):
        """dig from a transient service, two seconds after the unit's cgroup
        appeared: a rule for a unit that was not running when it was made
        reaches the kernel at dnsvisd's next cgroup scan (every second, with
        sd-event's default 250 ms slack). The unit lingers a moment so its
        cgroup is still there when the answer is attributed."""
        return self.run("systemd-run", f"--unit={unit}", "--wait", "--quiet", "sh", "-c",
                        f"sleep 2; dig +tries=2 +time=2 @{NSD_ADDRESS} {name} A; sleep 0.5")

    def active(self):
        return self.run("systemctl", "is-active", "dnsvis.service").stdout.strip()


def main():
    require_root_and_tools("systemd-nspawn", "nsenter", "nsd", "dig", "dnsperf", "bpftool", "busctl",
                           "dpkg-buildpackage", "dh")
    if not os.path.exists("/usr/lib/systemd/systemd"):
        skip("systemd is not installed, so no container can boot it")
    tap = Tap()
    try:
        # The guest-kernel test names the package it built for its guests.
        deb = os.environ.get("DNSVIS_E2E_DEB") or built_deb(
            os.environ["DNSVIS_SOURCE_ROOT"], os.environ["DNSVIS_BUILD_ROOT"],
            lambda text: print(f"# {text}", flush=True))
    except RuntimeError as error:
        tap.check(False, "the Debian package builds", error)
        tap.finish()
    container = boot_systemd(bind_read_only=[os.path.dirname(deb)])
    try:
        operator = Operator(container)
        steps = (install, start, one_query, scopes, burst, frozen_journald, stop, purge)
        # DNSVIS_E2E_STEPS=install,start,...: only these, as under an
        # emulated kernel (guest-kernel), where a burst at 20k qps is not.
        chosen = os.environ.get("DNSVIS_E2E_STEPS")
        if chosen:
            steps = tuple(step for step in steps if step.__name__ in chosen.split(","))
        for step in steps:
            if step(tap, operator, deb) is False:
                print(f"# {step.__name__} failed in a way the later steps depend on; stopping here", flush=True)
                break
    finally:
        container.stop()
    tap.finish()


def install(tap, op, deb):
    # The zone server first, so the service starts on a host that resolves.
    error = start_container_nsd(op.container, NSD_DIR, "dnsvis-e2e-nsd")
    if error:
        tap.check(False, "NSD answers inside the container", error)
        return False

    result = op.run("env", "DEBIAN_FRONTEND=noninteractive", "dpkg", "-i", deb, timeout=300)
    tap.check(result.returncode == 0, "dpkg -i installs the package", result.stdout[-2000:] + result.stderr[-2000:])
    return result.returncode == 0


def start(tap, op, deb):
    result = op.run("systemctl", "start", "dnsvis.service")
    tap.check(result.returncode == 0 and op.active() == "active", "systemctl start dnsvis: active",
              result.stderr + op.run("journalctl", "-u", "dnsvis", "--no-pager", "-n", "20").stdout)
    enabled = op.run("systemctl", "is-enabled", "dnsvis.service").stdout.strip()
    tap.equal(enabled, "enabled", "the package enabled the unit (dh_installsystemd)")

    owner = op.run("busctl", "status", "--no-pager", "org.dnsvis1")
    main_pid = op.run("systemctl", "show", "-p", "MainPID", "--value", "dnsvis.service").stdout.strip()
    tap.check(owner.returncode == 0 and re.search(rf"^PID={main_pid}$", owner.stdout, re.M) is not None,
              "the bus name org.dnsvis1 is owned by the service's main process", owner.stdout + owner.stderr)

    status = op.run("cat", f"/proc/{main_pid}/status").stdout
    capabilities = {k: int(v, 16) for k, v in re.findall(r"^(Cap\w+):\s+([0-9a-f]+)$", status, re.M)}
    tap.equal(hex(capabilities.get("CapEff", -1)), hex(1 << CAP_SYS_PTRACE),
              "CapEff of the running service is exactly CAP_SYS_PTRACE")
    tap.equal(hex(capabilities.get("CapPrm", -1)), hex(1 << CAP_SYS_PTRACE), "and so is CapPrm")

    cgroup_root = op.run("findmnt", "-n", "-t", "cgroup2", "-o", "TARGET").stdout.split()
    tree = op.run("bpftool", "cgroup", "tree", *(cgroup_root[:1]))
    tap.check(tree.stdout.count("dnsvis_") == 4, "bpftool cgroup tree shows the four dnsvis_* programs attached",
              tree.stdout + tree.stderr)

    security = op.run("systemd-analyze", "security", "--no-pager", "dnsvis.service")
    exposure = re.search(r"Overall exposure level for dnsvis.service: ([0-9.]+)", security.stdout)
    tap.check(exposure is not None and float(exposure.group(1)) <= 2.5,
              f"systemd-analyze security: exposure {exposure.group(1) if exposure else '?'} <= 2.5",
              security.stdout[-3000:])
    return op.active() == "active"


def one_query(tap, op, deb):
    name = f"client-{RUN}.wild.example.test"
    client = op.run("systemd-run", "--unit=client", "--wait", "--pipe", "--quiet", "sh", "-c",
                    f"dig +tries=2 +time=2 @{NSD_ADDRESS} {name} A; sleep 0.5")
    tap.check(client.returncode == 0 and "192.0.2.40" in client.stdout, "the client unit got its answer",
              client.stdout + client.stderr)
    found = op.wait_journal("-u", "dnsvis", f"DNS_NAME={name}")
    tap.equal(len(found), 1, "journalctl -u dnsvis DNS_NAME=... -o json finds the transaction")
    if found:
        entry = found[0]
        tap.check(entry.get("DNS_OUTCOME") == "answered" and entry.get("DNS_ANSWERS") == "192.0.2.40" and
                  entry.get("DNS_COMM") == "dig" and entry.get("MESSAGE_ID") == ID_TRANSACTION and
                  entry.get("OBJECT_SYSTEMD_UNIT") == "client.service",
                  "the entry names the answer, the process and the client's unit", entry)
    by_unit = op.journal("-u", "client.service", f"DNS_NAME={name}")
    tap.equal(len(by_unit), 1, "journalctl -u client.service shows the client's DNS transaction")
    explained = op.run("journalctl", "--no-pager", "-x", "-u", "dnsvis", f"DNS_NAME={name}").stdout
    tap.check("Subject: DNS transaction" in explained and "written by dnsvisd" in explained,
              "journalctl -x explains the entry from the installed catalog", explained)
    man = op.run("man", "-w", "dnsvisd")
    tap.check(man.returncode == 0 and man.stdout.strip().endswith("dnsvisd.8.gz"), "man dnsvisd finds the page",
              man.stderr)
    return True


def scopes(tap, op, deb):
    ctl = op.run("dnsvisctl", "--no-pager", "status")
    tap.check(ctl.returncode == 0, "dnsvisctl status talks to the service", ctl.stdout + ctl.stderr)

    code, reply = op.busctl("call", "SetGlobal", "b", "false")
    tap.equal(code, 0, "busctl call SetGlobal b false", reply)
    code, reply = op.busctl("call", "EnableUnit", "s", "e2e-visible.service")
    tap.equal(code, 0, "busctl call EnableUnit s e2e-visible.service", reply)
    # busctl prints an error's message only; dbus-send names the error.
    bad = op.run("dbus-send", "--system", "--print-reply", "--dest=org.dnsvis1", "/org/dnsvis1",
                 "org.dnsvis1.Manager.EnableUnit", "string:no/such unit")
    tap.check(bad.returncode != 0 and "org.dnsvis1.Error.InvalidArgument" in bad.stderr and op.active() == "active",
              "a malformed unit name gets org.dnsvis1.Error.InvalidArgument and the service keeps running",
              bad.stdout + bad.stderr)

    def visibility_holds(tag):
        # The hidden unit asks first: once the visible one's entry is in,
        # the hidden one's would be too, had it been reported.
        hidden, visible = f"hidden-{tag}-{RUN}.wild.example.test", f"visible-{tag}-{RUN}.wild.example.test"
        op.query_from_unit(f"e2e-hidden-{tag}", hidden)
        op.query_from_unit("e2e-visible", visible)
        seen = op.wait_journal("-u", "dnsvis", f"DNS_NAME={visible}")
        unseen = op.journal("-u", "dnsvis", f"DNS_NAME={hidden}")
        return len(seen) == 1 and not unseen, (seen, unseen)

    time.sleep(1)  # "within one second" of the contract
    ok, detail = visibility_holds("before")
    tap.check(ok, "global off + EnableUnit: only the enabled unit's DNS is reported", detail)
    code, listed = op.busctl("call", "ListScopes")
    rules = sorted(map(tuple, listed[0])) if code == 0 and listed else listed
    tap.check(code == 0 and ("unit", "e2e-visible.service", True) in rules and ("global", "", False) in rules,
              "ListScopes returns the rules", rules)

    restart = op.run("systemctl", "restart", "dnsvis.service")
    tap.check(restart.returncode == 0 and op.active() == "active", "systemctl restart dnsvis", restart.stderr)
    code_after, after = op.busctl("call", "ListScopes")
    rules_after = sorted(map(tuple, after[0])) if code_after == 0 and after else after
    tap.check(code == 0 and code_after == 0 and rules_after == rules, "the rules survive the restart",
              f"before: {rules}\nafter: {rules_after}")
    code, global_on = op.busctl("get-property", "Global")
    tap.equal(global_on, False, "the Global property is still false after the restart")
    time.sleep(1)
    ok, detail = visibility_holds("after")
    tap.check(ok, "after the restart, the kernel still reports only the enabled unit", detail)

    code, reply = op.busctl("call", "ResetScopes")
    tap.equal(code, 0, "busctl call ResetScopes", reply)
    code, global_on = op.busctl("get-property", "Global")
    tap.equal(global_on, True, "ResetScopes returns to the configured default (Global=yes)")
    return True


def burst(tap, op, deb):
    # Fresh counters, so the summary on stop accounts for the burst alone.
    op.run("systemctl", "restart", "dnsvis.service")
    if op.active() != "active":
        tap.check(False, "dnsvis is active before the burst")
        return False
    names = [f"b{i}-{RUN}.wild.example.test" for i in range(BURST)]
    with open(op.container.root + "/srv/dnsvis-e2e-burst.txt", "w") as data:
        data.writelines(f"{name} A\n" for name in names)
    perf = op.run("systemd-run", "--unit=e2e-burst", "--wait", "--pipe", "--quiet",
                  "dnsperf", "-s", NSD_ADDRESS, "-d", "/srv/dnsvis-e2e-burst.txt", "-n", "1",
                  "-Q", str(BURST_QPS), "-c", "4", "-q", "200", "-t", "2", timeout=120)
    sent = re.search(r"Queries sent:\s+(\d+)", perf.stdout)
    sent = int(sent.group(1)) if sent else 0
    elapsed = re.search(r"Run time \(s\):\s+([0-9.]+)", perf.stdout)
    tap.check(sent == BURST and elapsed and float(elapsed.group(1)) <= 3.0,
              f"dnsperf sent {sent} queries in {elapsed.group(1) if elapsed else '?'} s", perf.stdout + perf.stderr)

    # Unanswered queries are reported after Timeout= (5 s); the rest is
    # counted as unfinished when the service stops.
    time.sleep(7)
    invocation = op.run("systemctl", "show", "-p", "InvocationID", "--value", "dnsvis.service").stdout.strip()
    stop = op.run("systemctl", "stop", "dnsvis.service")
    # journald may still be working through the burst: wait for this run's summary.
    summaries = op.wait_journal(f"_SYSTEMD_INVOCATION_ID={invocation}", f"MESSAGE_ID={ID_SUMMARY}", timeout=120)
    summary = summaries[-1] if summaries else {}
    # journald keeps each sender's entries in order: with the summary in,
    # every entry of this run is.
    suffix = f"-{RUN}.wild.example.test"
    entries = op.journal(f"_SYSTEMD_INVOCATION_ID={invocation}", fields=["DNS_NAME", "DNS_OUTCOME"])
    count = len({e["DNS_NAME"] for e in entries if e.get("DNS_NAME", "").startswith("b") and
                 e["DNS_NAME"].endswith(suffix)})
    counters = {k: v for k, v in summary.items() if k.startswith("DNSVIS_")}
    lost = int(summary.get("DNSVIS_LOST", "-1"))
    causes = {k: v for k, v in summary.items() if k.startswith("DNSVIS_LOST_") and v != "0"}
    print(f"# burst: {sent} sent, {count} reported in the journal, {lost} counted lost {causes}", flush=True)
    tap.check(stop.returncode == 0 and summary, "systemctl stop writes the summary entry", stop.stderr)
    missing = sent - count
    tap.check(0 <= missing <= lost, f"every query of the burst is in the journal or counted lost "
              f"({count} + {lost} lost >= {sent})", counters)
    tap.check(lost > 0 or count == sent, "with nothing counted lost, the journal holds all 40,000", counters)
    # Counting a loss is no excuse for one. How much of a 20k qps burst
    # journald takes depends on the machine: all of it on the development
    # VMs, 74% on one whose loopback exchange ran at half their speed (two
    # cores shared by dnsperf, NSD, dnsvisd and journald), which counted the
    # rest lost at the ring buffer. journald's
    # own rate limit back (10,000 per 30 s) would keep 1 in 4: that is what
    # this check tells apart.
    tap.check(count >= 0.5 * sent, f"the journal holds at least half the burst, far more than journald's rate "
              f"limit would let through ({count} of {sent})", counters)
    return True


def frozen_journald(tap, op, deb):
    """journald stopped (SIGSTOP) while DNS flows: dnsvisd waits for it once,
    for STALL_SECONDS, counts what it could not hand over, and keeps serving
    the bus and SIGTERM. It used to wait for as long as journald did."""
    op.run("systemctl", "start", "dnsvis.service")
    if op.active() != "active":
        tap.check(False, "dnsvis is active before journald is frozen")
        return False
    invocation = op.run("systemctl", "show", "-p", "InvocationID", "--value", "dnsvis.service").stdout.strip()
    with open(op.container.root + "/srv/dnsvis-e2e-frozen.txt", "w") as data:
        data.writelines(f"f{i}-{RUN}.wild.example.test A\n" for i in range(FROZEN_QUERIES))
    op.run("systemctl", "kill", "-s", "SIGSTOP", "systemd-journald.service")
    try:
        started = time.monotonic()
        perf = op.run("systemd-run", "--unit=e2e-frozen", "--wait", "--pipe", "--quiet",
                      "dnsperf", "-s", NSD_ADDRESS, "-d", "/srv/dnsvis-e2e-frozen.txt", "-n", "1",
                      "-Q", str(FROZEN_QUERIES // 3), "-c", "4", "-q", "200", "-t", "2", timeout=60)
        sent = re.search(r"Queries sent:\s+(\d+)", perf.stdout)
        tap.check(sent and int(sent.group(1)) == FROZEN_QUERIES,
                  f"dnsperf sent {FROZEN_QUERIES} queries while journald is stopped", perf.stdout + perf.stderr)
        # Past the one wait, the bus answers at once.
        time.sleep(max(0.0, started + STALL_SECONDS + 1 - time.monotonic()))
        asked = time.monotonic()
        code, global_on = op.busctl("get-property", "Global")
        took = time.monotonic() - asked
        tap.check(code == 0 and took < 3, f"the bus answers while journald is stopped ({took:.1f} s)", global_on)
        asked = time.monotonic()
        stop = op.run("systemctl", "stop", "dnsvis.service", timeout=150)
        took = time.monotonic() - asked
        tap.check(stop.returncode == 0 and took < 10 and op.active() == "inactive",
                  f"systemctl stop returns while journald is stopped ({took:.1f} s)", stop.stderr)
    finally:
        op.run("systemctl", "kill", "-s", "SIGCONT", "systemd-journald.service")
    # dnsvisd's own log (its stderr, a stream journald reads once it runs
    # again) says what happened; the entries journald did not take are lost.
    logged = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        logged = [e.get("MESSAGE", "") for e in op.journal(f"_SYSTEMD_INVOCATION_ID={invocation}")]
        if any(m.startswith("Stopped:") for m in logged):
            break
        time.sleep(0.5)
    stall = [m for m in logged if f"took no entry for {STALL_SECONDS * 1000} ms" in m]
    tap.equal(len(stall), 1, "dnsvisd logs the stall once", logged[-10:])
    totals = next((re.match(r"Stopped: (\d+) transactions reported, (\d+) lost", m) for m in logged
                   if m.startswith("Stopped:")), None)
    lost = int(totals.group(2)) if totals else -1
    suffix = f"-{RUN}.wild.example.test"
    arrived = len({e["DNS_NAME"] for e in op.journal(f"_SYSTEMD_INVOCATION_ID={invocation}", fields=["DNS_NAME"])
                   if e.get("DNS_NAME", "").startswith("f") and e["DNS_NAME"].endswith(suffix)})
    print(f"# frozen journald: {arrived} entries arrived; {totals.group(0) if totals else 'no stop line'}",
          flush=True)
    tap.check(0 < arrived < FROZEN_QUERIES and arrived + lost >= FROZEN_QUERIES,
              f"every query is in the journal or counted lost ({arrived} + {lost} >= {FROZEN_QUERIES})",
              logged[-10:])
    return True


def stop(tap, op, deb):
    if op.active() == "active":
        op.run("systemctl", "stop", "dnsvis.service")
    tap.check(op.active() == "inactive", "dnsvis is stopped cleanly",
              op.run("journalctl", "-u", "dnsvis", "--no-pager", "-n", "10").stdout)
    cgroup_root = op.run("findmnt", "-n", "-t", "cgroup2", "-o", "TARGET").stdout.split()
    tree = op.run("bpftool", "cgroup", "tree", *(cgroup_root[:1]))
    tap.check(tree.returncode == 0 and "dnsvis_" not in tree.stdout,
              "bpftool cgroup tree: no dnsvis_* program is attached", tree.stdout + tree.stderr)
    programs = op.run("bpftool", "prog", "show")
    tap.check(programs.returncode == 0 and "dnsvis_" not in programs.stdout,
              "bpftool prog show: no dnsvis_* program is loaded", programs.stderr)
    return True


def purge(tap, op, deb):
    state = "/var/lib/dnsvis/scopes.json"
    tap.check(op.run("test", "-f", state).returncode == 0, "the scope rules were saved in the state directory")
    result = op.run("env", "DEBIAN_FRONTEND=noninteractive", "dpkg", "--purge", "dnsvis", timeout=120)
    tap.check(result.returncode == 0, "dpkg --purge removes the package", result.stdout[-2000:] + result.stderr[-2000:])
    left = [path for path in ("/var/lib/dnsvis", "/etc/dnsvis/dnsvis.conf", "/usr/sbin/dnsvisd")
            if op.run("test", "-e", path).returncode == 0]
    tap.equal(left, [], "nothing of the package is left: state, configuration, daemon")
    return True


if __name__ == "__main__":
    main()
