#!/usr/bin/env python3
"""dnsvisd's ScopeManager against the real kernel, without the bus: the
calls the D-Bus service makes (through tests/integration/scope_driver.cpp),
their named errors for bad input, and their effect on the kernel's filter
as the captured and filtered counters show it."""
import json
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from dnsvis_testlib import NSD_ADDRESS, Cgroups, Nsd, Tap, cgroup2_root, dig_in, require_root_and_tools, skip, workdir


MAX_SCOPE_RULES = 1024  # max_scope_rules in daemon/core/scope_rules.hpp


class Driver:
    def __init__(self, state_dir, default_global, docker_socket=None):
        self.process = subprocess.Popen(
            [os.environ.get("DNSVIS_SCOPE_DRIVER", "dnsvis-scope-driver"), state_dir,
             "yes" if default_global else "no", *([docker_socket] if docker_socket else [])],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ready = self.read()
        if not ready.get("ready"):
            raise RuntimeError("the scope driver did not start: " + self.process.stderr.read())

    def read(self):
        line = self.process.stdout.readline()
        return json.loads(line) if line else {}

    def call(self, command):
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self.read()

    def counters(self):
        answer = self.call("counters")
        return answer["captured"], answer["filtered"]

    def stop(self):
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.stderr.read()


def captured_by(driver, cgroup, name):
    """How many packets of one dig from `cgroup` were captured and filtered."""
    before = driver.counters()
    dig_in(cgroup, name)
    time.sleep(0.2)
    after = driver.counters()
    return after[0] - before[0], after[1] - before[1]


def check_unreadable_state_file(tap, work):
    """A state file dnsvisd cannot read (here a symlink, which it does not
    follow) is moved aside, never replaced unread by the next change; one
    it can neither read nor move (its directory immutable) is kept, and
    changes say they were not saved."""
    elsewhere = os.path.join(work, "elsewhere.json")
    kept = '{"version": 1, "global": true, "rules": []}'
    with open(elsewhere, "w") as f:
        f.write(kept)
    state_dir = os.path.join(work, "state-unreadable")
    os.makedirs(state_dir)
    state_path = os.path.join(state_dir, "scopes.json")
    os.symlink(elsewhere, state_path)
    driver = Driver(state_dir, default_global=False)
    aside = state_path + ".unreadable"
    tap.equal(driver.call("list").get("scopes"), [["global", "", False]],
              "a symlinked state file is not followed: the configured default applies")
    tap.check(os.path.islink(aside) and os.readlink(aside) == elsewhere and not os.path.lexists(state_path),
              "the unreadable state file is moved aside as it was", os.listdir(state_dir))
    tap.check(driver.call("global on").get("ok"), "a change after that succeeds")
    stderr = driver.stop()
    with open(state_path) as f:
        saved = json.load(f)
    tap.check(saved.get("global") is True and open(elsewhere).read() == kept and os.path.islink(aside),
              "the change is saved to a new file; the one moved aside and its target are untouched", saved)
    tap.check(state_path in stderr and aside in stderr and "Too many levels of symbolic links" in stderr,
              "one message names the file, where it went and why", stderr)

    # Neither readable nor movable: changes hold, but are not saved over it.
    os.unlink(state_path)
    os.rename(aside, state_path)
    immutable = subprocess.run(["chattr", "+i", state_dir], capture_output=True, text=True)
    tap.equal(immutable.returncode, 0, "the state directory is made immutable (chattr +i)", immutable.stderr)
    driver = None
    try:
        driver = Driver(state_dir, default_global=False)
        answer = driver.call("global on")
        listed = driver.call("list")
        left_alone = os.path.islink(state_path) and os.readlink(state_path) == elsewhere and \
            open(elsewhere).read() == kept
        # The operator fixes the directory while dnsvisd runs: the next
        # change moves the file aside and is saved.
        subprocess.run(["chattr", "-i", state_dir], check=True)
        fixed = driver.call("global off")
    finally:
        stderr = driver.stop() if driver else ""
        subprocess.run(["chattr", "-i", state_dir], check=False)
    tap.check(answer.get("error") == "failed" and "in effect but cannot be saved" in answer.get("message", "") and
              "could not be read or moved aside" in answer.get("message", "") and
              "still cannot be moved" in answer.get("message", ""),
              "a state file that can be neither read nor moved: a change says it is not saved, and why", answer)
    tap.equal(listed.get("global"), True, "that change is in effect all the same")
    tap.check(left_alone, "and the state file is left as it was", stderr)
    tap.check(fixed.get("ok"), "once the directory is writable again, the next change succeeds", fixed)
    with open(state_path) as f:
        saved = json.load(f)
    tap.check(saved.get("global") is False and os.path.islink(aside) and os.readlink(aside) == elsewhere and
              open(elsewhere).read() == kept,
              "it is saved, and the file that could not be read is moved aside untouched", (saved, stderr))
    tap.check(f"can be moved now: moved it to {aside}" in stderr, "one message says so", stderr)


def main():
    require_root_and_tools("nsd", "dig")
    if not os.path.exists(os.environ.get("DNSVIS_SCOPE_DRIVER", "")):
        skip("DNSVIS_SCOPE_DRIVER is not built (run through meson test)")
    root = cgroup2_root()
    if root is None:
        skip("no cgroup2 file system is mounted")
    tap = Tap()
    work = workdir()
    tag = str(os.getpid())
    slice_dir = os.path.join(root, f"dnsvis-mgr{tag}.slice")
    unit = f"dnsvis-unit{tag}.service"
    unit_dir = os.path.join(slice_dir, unit)
    # Two containers laid out like Docker's cgroupfs driver, with ids that
    # share a prefix.
    id_a = "feed" + tag.rjust(8, "0") + "a" * 52
    id_b = "feed" + tag.rjust(8, "0") + "b" * 52
    cgroups = Cgroups(root)
    state_dir = os.path.join(work, "state")
    state_path = os.path.join(state_dir, "scopes.json")
    nsd = Nsd(work)
    driver = None
    try:
        slice_name = os.path.basename(slice_dir)
        for relative in (slice_name, f"{slice_name}/{unit}", f"{slice_name}/docker-{id_a}.scope",
                         f"{slice_name}/docker-{id_b}.scope"):
            cgroups.make(relative)
        driver = Driver(state_dir, default_global=False)

        # Bad input: a named error each, and the driver (the daemon) lives on.
        for name, why in (("", "empty"), ("nginx", "no suffix"), ("foo.bar", "unknown suffix"),
                          ("getty@.service", "a template"), ("a/b.service", "a slash"),
                          ("x" * 250 + ".service", "too long")):
            answer = driver.call(f"unit {name} on")
            tap.check(answer.get("error") == "invalid_argument" and answer.get("message"),
                      f"unit name {why}: invalid_argument with a message", answer)
        answer = driver.call("process 0 on")
        tap.equal(answer.get("error"), "invalid_argument", "pid 0: invalid_argument")
        dead = subprocess.Popen(["true"])
        dead.wait()
        answer = driver.call(f"process {dead.pid} on")
        tap.equal(answer.get("error"), "no_such_process", "a pid nobody has: no_such_process")
        answer = driver.call("container  on")
        tap.equal(answer.get("error"), "invalid_argument", "an empty container id: invalid_argument")
        answer = driver.call("container nosuchcontainer on")
        tap.equal(answer.get("error"), "no_such_container", "an unknown container: no_such_container")
        answer = driver.call(f"container feed{tag.rjust(8, '0')} on")
        tap.check(answer.get("error") == "ambiguous_container" and "2 containers" in answer.get("message", ""),
                  "an id prefix of two containers: ambiguous_container", answer)
        tap.check(driver.process.poll() is None, "the daemon side survives every bad input")
        tap.equal(driver.call("list").get("scopes"), [["global", "", False]], "refused calls leave no rule")

        # A unit rule takes effect at once, in the kernel.
        captured, filtered = captured_by(driver, unit_dir, "before.wild.example.test")
        tap.check(captured == 0 and filtered >= 2, "Global=no: a unit's query is filtered, not captured",
                  (captured, filtered))
        tap.check(driver.call(f"unit {unit} on").get("ok"), "EnableUnit succeeds")
        captured, filtered = captured_by(driver, unit_dir, "enabled.wild.example.test")
        tap.equal((captured, filtered), (2, 0), "after enabling the unit its query and answer are captured")
        captured, _ = captured_by(driver, None, "other.wild.example.test")
        tap.equal(captured, 0, "another cgroup's query is still not captured")

        # A unique prefix names the container; it is kept by its full id and
        # beats the slice's unit rule.
        tap.check(driver.call(f"unit dnsvis-mgr{tag}.slice off").get("ok"), "DisableUnit on the slice succeeds")
        answer = driver.call(f"container {id_a[:20]} on")
        tap.check(answer.get("ok"), "a unique id prefix names a container", answer)
        scopes = driver.call("list").get("scopes")
        tap.check(["container", id_a, True] in scopes, "the container rule is kept by its full id", scopes)
        captured, _ = captured_by(driver, os.path.join(slice_dir, f"docker-{id_a}.scope"), "ctr.wild.example.test")
        tap.equal(captured, 2, "the container rule beats its slice's disabled unit rule")
        captured, _ = captured_by(driver, os.path.join(slice_dir, f"docker-{id_b}.scope"), "ctrb.wild.example.test")
        tap.equal(captured, 0, "the other container stays under the slice's disabled rule")

        # Disabling the unit hides it again; the state file follows each change.
        tap.check(driver.call(f"unit {unit} off").get("ok"), "DisableUnit succeeds")
        captured, _ = captured_by(driver, unit_dir, "disabled.wild.example.test")
        tap.equal(captured, 0, "after disabling the unit its query is not captured")
        with open(state_path) as f:
            saved = json.load(f)
        tap.check(saved.get("version") == 1 and
                  {"kind": "unit", "target": unit, "enabled": False} in saved.get("rules", []) and
                  {"kind": "container", "target": id_a, "enabled": True} in saved.get("rules", []),
                  "the state file holds the rules as changed", saved)

        # Global on: everything without a more specific rule shows.
        tap.check(driver.call("global on").get("ok"), "SetGlobal(true) succeeds")
        captured, _ = captured_by(driver, None, "global.wild.example.test")
        tap.equal(captured, 2, "with global on, a cgroup without a rule is captured")
        captured, _ = captured_by(driver, unit_dir, "still-disabled.wild.example.test")
        tap.equal(captured, 0, "with global on, the disabled unit stays hidden")

        # A process rule wins over its unit's disabled rule.
        waiting = subprocess.Popen(["sh", "-c", f'echo $$ > "{unit_dir}/cgroup.procs" && read go && '
                                                f'exec dig +tries=1 +time=2 @{NSD_ADDRESS} proc.wild.example.test A'],
                                   stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.2)
        tap.check(driver.call(f"process {waiting.pid} on").get("ok"), "EnableProcess succeeds")
        before = driver.counters()
        waiting.communicate(b"go\n", timeout=30)
        time.sleep(0.2)
        tap.equal(driver.counters()[0] - before[0], 2, "the process rule wins over its unit's disabled rule")
        deadline = time.monotonic() + 10  # the rule of an exited process goes at the next rescan
        while True:
            scopes = driver.call("list").get("scopes")
            if not [s for s in scopes if s[0] == "process"] or time.monotonic() > deadline:
                break
            time.sleep(0.25)
        tap.check(not [s for s in scopes if s[0] == "process"], "the rule of an exited process is dropped", scopes)

        # Reset: no rules, global back to the configured default (off).
        tap.check(driver.call("reset").get("ok"), "ResetScopes succeeds")
        tap.equal(driver.call("list").get("scopes"), [["global", "", False]], "after a reset only global is left")
        captured, _ = captured_by(driver, unit_dir, "reset.wild.example.test")
        tap.equal(captured, 0, "after a reset the configured default (off) applies")
        with open(state_path) as f:
            saved = json.load(f)
        tap.equal(saved, {"version": 1, "global": None, "rules": []}, "the reset is saved")

        # A thread's id names its process: the kernel matches thread groups.
        thread = threading.Thread(target=time.sleep, args=(2,))
        thread.start()
        answer = driver.call(f"process {thread.native_id} on")
        scopes = driver.call("list").get("scopes")
        tap.check(answer.get("ok") and ["process", str(os.getpid()), True] in scopes,
                  "a thread id makes a rule for its process", scopes)
        thread.join()
        driver.call("reset")

        # The bound on rules: one more is refused with its own error, while
        # a rule already there can still change.
        for index in range(MAX_SCOPE_RULES):
            answer = driver.call(f"unit dnsvis-cap{index}.service on")
            if not answer.get("ok"):
                break
        tap.check(answer.get("ok"), f"{MAX_SCOPE_RULES} rules are taken", answer)
        answer = driver.call("unit dnsvis-one-more.service on")
        tap.check(answer.get("error") == "limits_exceeded" and "ResetScopes" in answer.get("message", ""),
                  "one more is refused: limits_exceeded, saying how to get under the bound", answer)
        tap.check(driver.call("unit dnsvis-cap0.service off").get("ok"), "a rule already there can still change")
        driver.call("reset")
        stderr = driver.stop()
        tap.equal(driver.process.returncode, 0, "the driver exits cleanly", stderr)
        driver = None
        check_unreadable_state_file(tap, work)
    finally:
        if driver is not None:
            driver.stop()
        nsd.stop()
        cgroups.remove_all()
    tap.check(not os.path.exists(slice_dir), "the test's cgroups are removed")
    tap.finish()


if __name__ == "__main__":
    main()
