#!/usr/bin/env python3
"""Visibility scopes against the real kernel, without the bus: rules from a
prepared state file, cgroups made by hand and named like systemd units, dig
run inside them against NSD. What the kernel filters out must not reach
user space, so the captured counter is checked as well as the output."""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from dnsvis_testlib import (NSD_ADDRESS, Cgroups, Dnsvisd, Nsd, Tap, by_name, cgroup2_root, dig_in, dns_query,
                            require_root_and_tools, workdir)

SUMMARY_ID = "6865af7173214451bda6f168d9555bf0"


def start_time(pid):
    """Field 22 of /proc/PID/stat, counted after the command name."""
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[19])


class WaitingDig:
    """A shell that moves itself into a cgroup and waits; go() makes it exec
    dig, keeping its pid, so a rule can name the pid before the query."""

    def __init__(self, cgroup, name):
        self.process = subprocess.Popen(
            ["sh", "-c", f'echo $$ > "{cgroup}/cgroup.procs" && read go && exec dig +tries=1 +time=2 '
                         f'@{NSD_ADDRESS} {name} A'],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.pid = self.process.pid
        # The move is done once /proc says so.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with open(f"/proc/{self.pid}/cgroup") as f:
                if f.read().strip().endswith(cgroup[len(cgroup2_root()):]):
                    break
            time.sleep(0.02)
        self.start_time = start_time(self.pid)

    def go(self):
        self.process.communicate(b"go\n", timeout=30)

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


class WaitingSendto:
    """A Python client that waits; go() makes it send one query with
    sendto() on an unconnected UDP socket (as musl's resolver and dnspython
    do: no connect() names the socket's owner) and read the answer."""

    def __init__(self, name):
        query = dns_query(0x5150, name, qtype=1).hex()
        self.process = subprocess.Popen(
            [sys.executable, "-c",
             "import socket, sys\n"
             "sys.stdin.readline()\n"
             "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
             "s.settimeout(3)\n"
             f"s.sendto(bytes.fromhex('{query}'), ('{NSD_ADDRESS}', 53))\n"
             "s.recv(4096)\n"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.pid = self.process.pid
        self.start_time = start_time(self.pid)

    def go(self):
        _, error = self.process.communicate(b"go\n", timeout=30)
        return self.process.returncode == 0, error


def check_disabled_process(tap, work):
    """Global visibility on, one process hidden by a process rule: neither
    its query nor its answer may be reported (the answer arrives in softirq,
    where only the socket's recorded owner tells whose it is)."""
    hidden = WaitingSendto("hidden-process.wild.example.test")
    state_dir = os.path.join(work, "state-hidden-process")
    state_file(state_dir, [{"kind": "process", "pid": hidden.pid, "start_time": hidden.start_time,
                            "enabled": False}])
    run = os.path.join(work, "run-hidden-process")
    os.makedirs(run)
    daemon = Dnsvisd(run, "[Visibility]\nGlobal=yes\n", extra_args=[f"--state-dir={state_dir}"])
    try:
        answered, error = hidden.go()
        tap.check(answered, "the hidden process got its answer", error)
        dig_in(None, "shown-process.wild.example.test")
        tap.equal(len(daemon.wait_for(by_name("shown-process.wild.example.test"))), 1,
                  "global visibility on: another process's query is reported")
        tap.equal(daemon.wait_for(by_name("hidden-process.wild.example.test"), timeout=1), [],
                  "a disabled process rule hides its query and its answer (no unmatched response either)")
    finally:
        daemon.stop()
        if hidden.process.poll() is None:
            hidden.process.kill()


def state_file(directory, rules, global_value=None):
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "scopes.json")
    with open(path, "w") as f:
        json.dump({"version": 1, "global": global_value, "rules": rules}, f)
    return path


def unit_rule(name, enabled):
    return {"kind": "unit", "target": name, "enabled": enabled}


def summary_of(daemon):
    entries = daemon.entries()
    return entries[-1] if entries and entries[-1].get("MESSAGE_ID") == SUMMARY_ID else {}


def counters(summary):
    return {k: v for k, v in summary.items() if k.startswith("DNSVIS_")}


def main():
    require_root_and_tools("nsd", "dig", "bpftool")
    root = cgroup2_root()
    if root is None:
        from dnsvis_testlib import skip
        skip("no cgroup2 file system is mounted")
    tap = Tap()
    work = workdir()
    tag = str(os.getpid())
    slice_name = f"dnsvis-test{tag}.slice"
    shown = f"dnsvis-shown{tag}.scope"      # unit rule: enabled
    hidden = f"dnsvis-hidden{tag}.scope"    # unit rule: disabled
    late = f"dnsvis-late{tag}.scope"        # unit rule for a cgroup made after the start
    # A cgroup laid out as Docker's systemd driver makes them: a unit and a
    # container at once. Its unit rule hides, its container rule shows.
    container_id = (tag * 64)[:64].translate(str.maketrans("0123456789", "abcdef0123"))
    container = f"docker-{container_id}.scope"
    cgroups = Cgroups(root)
    waiting = []
    daemon = None
    nsd = Nsd(work)
    try:
        cgroups.make(slice_name)
        shown_cg = cgroups.make(f"{slice_name}/{shown}")
        hidden_cg = cgroups.make(f"{slice_name}/{hidden}")
        container_cg = cgroups.make(f"{slice_name}/{container}")

        # Two processes in the hidden unit: one named by a process rule,
        # one by a rule whose start time is not its own (a reused pid).
        chosen = WaitingDig(hidden_cg, "process.wild.example.test")
        stale = WaitingDig(hidden_cg, "stale.wild.example.test")
        waiting += [chosen, stale]
        state_dir = os.path.join(work, "state")
        state_path = state_file(state_dir, [
            unit_rule(shown, True),
            unit_rule(hidden, False),
            unit_rule(late, True),
            unit_rule(container, False),
            {"kind": "container", "target": container_id, "enabled": True},
            {"kind": "process", "pid": chosen.pid, "start_time": chosen.start_time, "enabled": True},
            {"kind": "process", "pid": stale.pid, "start_time": stale.start_time + 1, "enabled": True},
        ])

        run1 = os.path.join(work, "run1")
        os.makedirs(run1)
        daemon = Dnsvisd(run1, "[Visibility]\nGlobal=no\n", extra_args=[f"--state-dir={state_dir}"])
        dig_in(shown_cg, "unit.wild.example.test")
        dig_in(hidden_cg, "hidden.wild.example.test")
        dig_in(None, "elsewhere.wild.example.test")
        dig_in(container_cg, "container.wild.example.test")
        chosen.go()
        stale.go()
        late_cg = cgroups.make(f"{slice_name}/{late}")
        # A new cgroup a rule names is in the kernel map as soon as dnsvisd
        # sees it appear (inotify), not at the once-a-second rescan.
        time.sleep(0.4)
        dig_in(late_cg, "late.wild.example.test")

        unit_seen = daemon.wait_for(by_name("unit.wild.example.test"))
        process_seen = daemon.wait_for(by_name("process.wild.example.test"))
        late_seen = daemon.wait_for(by_name("late.wild.example.test"))
        # The unit restarts: a new cgroup (a new id) under the same name.
        os.rmdir(late_cg)
        os.mkdir(late_cg)
        time.sleep(0.4)
        dig_in(late_cg, "restarted.wild.example.test")
        restarted_seen = daemon.wait_for(by_name("restarted.wild.example.test"))
        container_seen = daemon.wait_for(by_name("container.wild.example.test"))
        time.sleep(0.5)
        tap.check(len(unit_seen) == 1 and unit_seen[0].get("DNS_OUTCOME") == "answered",
                  "Global=no with an enabled unit rule: the unit's query is reported", unit_seen)
        tap.check(len(process_seen) == 1 and process_seen[0].get("DNS_PID") == str(chosen.pid),
                  "a process rule wins over its unit's disabled rule", process_seen)
        tap.equal(len(late_seen), 1, "a unit rule applies to a cgroup made after the start as soon as it appears")
        tap.equal(len(restarted_seen), 1, "a unit rule follows its unit to a new cgroup after a restart")
        tap.check(len(container_seen) == 1 and container_seen[0].get("CONTAINER_ID_FULL") == container_id,
                  "a container rule wins over the disabled rule of the unit that is the container", container_seen)
        tap.equal(daemon.wait_for(by_name("hidden.wild.example.test"), timeout=0.5), [],
                  "a disabled unit rule hides its unit's query")
        tap.equal(daemon.wait_for(by_name("elsewhere.wild.example.test"), timeout=0.5), [],
                  "a cgroup without a rule follows Global=no")
        tap.equal(daemon.wait_for(by_name("stale.wild.example.test"), timeout=0.5), [],
                  "a process rule whose start time is not the process's (a reused pid) is dropped")
        tap.check(f"Process {stale.pid} no longer runs" in daemon.stderr() and
                  "Restored 6 scope rule(s)" in daemon.stderr(),
                  "the stale process rule is reported as dropped", daemon.stderr())

        tap.equal(daemon.stop(), 0, "dnsvisd exits 0")
        daemon_run1 = daemon
        daemon = None
        summary = summary_of(daemon_run1)
        # Five transactions were in scope: query and answer each. The
        # hidden unit, the stale pid and our own cgroup (two packets each)
        # were filtered in the kernel and never captured.
        tap.check(summary.get("DNSVIS_CAPTURED") == "10" and int(summary.get("DNSVIS_FILTERED", "0")) >= 6,
                  "out-of-scope traffic is filtered in the kernel: captured counts only the 5 reported exchanges",
                  counters(summary))

        # The daemon rewrote the state (the two process rules are gone: one
        # was stale, the other's process exited); a restart reads it back.
        with open(state_path) as f:
            saved = json.load(f)
        kinds = sorted((r["kind"], r.get("target", "")) for r in saved.get("rules", []))
        tap.check(saved.get("version") == 1 and saved.get("global") is None and
                  kinds == sorted([("unit", shown), ("unit", hidden), ("unit", late), ("unit", container),
                                   ("container", container_id)]),
                  "the daemon saved the state file without the rules of exited processes", saved)
        tap.check(not [n for n in os.listdir(state_dir) if n != "scopes.json"],
                  "no temporary file is left in the state directory", os.listdir(state_dir))

        run2 = os.path.join(work, "run2")
        os.makedirs(run2)
        daemon = Dnsvisd(run2, "[Visibility]\nGlobal=no\n", extra_args=[f"--state-dir={state_dir}"])
        dig_in(shown_cg, "restart.wild.example.test")
        dig_in(hidden_cg, "restart-hidden.wild.example.test")
        tap.equal(len(daemon.wait_for(by_name("restart.wild.example.test"))), 1,
                  "after a restart the unit rule from the state file still applies")
        tap.equal(daemon.wait_for(by_name("restart-hidden.wild.example.test"), timeout=0.5), [],
                  "after a restart the disabled unit rule still hides")
        tap.check("Restored 5 scope rule(s)" in daemon.stderr(), "the restore is logged", daemon.stderr())
        daemon.stop()
        daemon = None

        # A damaged state file: moved aside with one message naming both
        # paths, and the configured default applies (Global=yes here, so
        # our own cgroup's query shows although the file hid it).
        for damage, text in (("truncated", '{"version": 1, "global": false, "rules": [{"kind": "unit", "tar'),
                             ("wrong-typed", '{"version": 1, "global": "no", "rules": []}')):
            with open(state_path, "w") as f:
                f.write(text)
            run = os.path.join(work, f"run-{damage}")
            os.makedirs(run)
            daemon = Dnsvisd(run, "[Visibility]\nGlobal=yes\n", extra_args=[f"--state-dir={state_dir}"])
            dig_in(None, f"{damage}.wild.example.test")
            seen = daemon.wait_for(by_name(f"{damage}.wild.example.test"))
            daemon.stop()
            messages = [line for line in daemon.stderr().splitlines() if "scope state file" in line]
            aside = state_path + ".corrupt"
            tap.check(len(messages) == 1 and state_path in messages[0] and aside in messages[0],
                      f"{damage} state file: one message naming the file and where it went", daemon.stderr())
            tap.check(os.path.exists(aside) and open(aside).read() == text and not os.path.exists(state_path),
                      f"{damage} state file: moved aside unchanged", os.listdir(state_dir))
            tap.equal(len(seen), 1, f"{damage} state file: the configured default (Global=yes) applies")
            daemon = None
            os.unlink(aside)

        check_disabled_process(tap, work)
    finally:
        if daemon is not None:
            daemon.stop()
        for process in waiting:
            process.kill()
        nsd.stop()
        cgroups.remove_all()
    tap.check(not os.path.exists(os.path.join(root, slice_name)),
              "the test's cgroups are removed")
    tap.finish()


if __name__ == "__main__":
    main()
