#!/usr/bin/env python3
"""org.dnsvis1 on a real system bus: dnsvisd runs as a service of a booted
systemd (in a container) with the installed bus and polkit policies, and is
steered with busctl, dbus-send and dnsvisctl. Global visibility is off, so
only what a rule names is reported.

Process and container rules are checked in test_dbus_host.py, with dnsvisd on
the host: in the container's pid namespace a pid is not the one the kernel
programs see, and Docker does not run inside it."""
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ElementTree

sys.path.insert(0, os.path.dirname(__file__))
from booted_systemd import boot_systemd, journal, wait_journal
from dnsvis_testlib import Tap, dnsvisd_path, require_root_and_tools, skip

DNS_ADDRESS = "127.53.0.2"
DAEMON_UNIT = "dnsvis-under-test.service"
CONFIG_PATH = "/etc/dnsvis-test/dnsvis.conf"
INTERFACE = "org.dnsvis1.Manager"
NOBODY = "65534"
POLKIT_ALLOWED_USER = "daemon"  # uid 1, allowed by a test polkit rule
POLKIT_ALLOWED_UID = "1"

SOURCE_ROOT = os.environ.get("DNSVIS_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD_ROOT = os.environ.get("DNSVIS_BUILD_ROOT", os.path.dirname(os.path.dirname(os.path.realpath(dnsvisd_path()))))
DNSVISCTL = os.path.join(BUILD_ROOT, "dnsvisctl", "dnsvisctl")

# Lets user "daemon" (and no one else) do org.dnsvis1.manage without a
# password: the positive polkit path, asked for the caller's bus name.
POLKIT_SLOW_USER = "bin"  # uid 2, whose every check takes polkit 1.5 s
POLKIT_SLOW_UID = "2"
POLKIT_RULE = f"""polkit.addRule(function(action, subject) {{
    if (action.id == "org.dnsvis1.manage" && subject.user == "{POLKIT_ALLOWED_USER}")
        return polkit.Result.YES;
    if (action.id == "org.dnsvis1.manage" && subject.user == "{POLKIT_SLOW_USER}") {{
        polkit.spawn(["sleep", "1.5"]);
        return polkit.Result.NO;
    }}
}});
"""


def interface_members(xml_text):
    """Methods, signals and properties of org.dnsvis1.Manager, with their
    argument names, types and directions, from introspection XML."""
    root = ElementTree.fromstring(xml_text)
    for interface in root.iter("interface"):
        if interface.get("name") != INTERFACE:
            continue
        methods = {m.get("name"): [(a.get("name"), a.get("type"), a.get("direction", "in")) for a in m.iter("arg")]
                   for m in interface.iter("method")}
        signals = {s.get("name"): [(a.get("name"), a.get("type")) for a in s.iter("arg")]
                   for s in interface.iter("signal")}
        properties = {p.get("name"): (p.get("type"), p.get("access")) for p in interface.iter("property")}
        return {"methods": methods, "signals": signals, "properties": properties}
    return None


class Bus:
    def __init__(self, container):
        self.container = container
        self.last_error = ""  # what dbus-send printed for the last error_name() call

    def busctl(self, *args, uid=None):
        command = ["busctl", *args]
        if uid is not None:
            command = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", *command]
        return self.container.run(*command, check=False)

    def call(self, method, signature="", *args, uid=None):
        return self.busctl("call", "org.dnsvis1", "/org/dnsvis1", INTERFACE, method,
                           *([signature, *map(str, args)] if signature else []), uid=uid)

    def call_json(self, method):
        result = self.busctl("--json=short", "call", "org.dnsvis1", "/org/dnsvis1", INTERFACE, method)
        return json.loads(result.stdout)["data"][0] if result.returncode == 0 else None

    def error_name(self, method, *typed_args, uid=None):
        """The D-Bus error name a call gets ("" on success): dbus-send prints
        it, busctl only prints the message. typed_args: "string:x" etc."""
        command = ["dbus-send", "--system", "--print-reply", "--reply-timeout=30000", "--dest=org.dnsvis1",
                   "/org/dnsvis1", f"{INTERFACE}.{method}", *typed_args]
        if uid is not None:
            command = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", *command]
        result = self.container.run(*command, check=False)
        self.last_error = result.stderr.strip()
        if result.returncode == 0:
            return ""
        for line in result.stderr.splitlines():
            if line.startswith("Error "):
                return line.split()[1].rstrip(":")
        return result.stderr.strip()

    def global_visible(self):
        out = self.busctl("get-property", "org.dnsvis1", "/org/dnsvis1", INTERFACE, "Global").stdout.split()
        return out[1] == "true" if len(out) == 2 else None

    def scopes(self):
        return [tuple(row) for row in (self.call_json("ListScopes") or [])]

    def statistics(self):
        return self.call_json("GetStatistics") or {}

    def daemon_active(self):
        return self.container.run("systemctl", "is-active", DAEMON_UNIT, check=False).stdout.strip() == "active"


def query_from_unit(container, unit, name, dig="dig"):
    """`dig` for `name` in a transient service `unit`. A unit rule reaches a
    cgroup that appears after it within a second (the contract), so the
    client waits that long before asking; it lingers a moment afterwards so
    its cgroup is still there to be named."""
    return container.run("systemd-run", f"--unit={unit}", "--wait", "--collect", "sh", "-c",
                         f"sleep 1.5; {dig} +tries=2 +time=1 @{DNS_ADDRESS} {name} A; sleep 1", check=False)


# dig under a name that is not UTF-8 and holds a terminal control sequence:
# its process name (comm) is what its owner chose.
HOSTILE_DIG = "\"/run/$(printf '\\377\\033[8m')dig\""


def fresh_name(label):
    return f"{label}-{uuid.uuid4().hex[:8]}.dbus.test"


def main():
    require_root_and_tools("systemd-nspawn", "nsenter", "dnsmasq", "dig", "busctl", "dbus-send", "setpriv", "bpftool")
    if not os.path.exists(DNSVISCTL):
        skip(f"dnsvisctl is not built ({DNSVISCTL})")
    tap = Tap()
    container = boot_systemd(bind_read_only=visible_trees())
    try:
        install_policies(container)
        run_checks(tap, container, Bus(container))
    finally:
        container.stop()
    tap.finish()


def visible_trees():
    """The source and build trees, to be seen inside at the same paths (a
    tree under /tmp would not be); one inside the other is bound once."""
    trees = sorted({os.path.realpath(SOURCE_ROOT), os.path.realpath(BUILD_ROOT)})
    return [t for t in trees if not any(t != other and t.startswith(other + "/") for other in trees)]


def install_policies(container):
    """What `meson install` puts in place, copied from the source tree into
    the container's root (its overlay), then the bus is told to reread."""
    def put(path, text, mode=0o644):
        full = container.root + path
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)
        os.chmod(full, mode)

    def source(name):
        return open(os.path.join(SOURCE_ROOT, "dbus", name)).read()

    put("/usr/share/dbus-1/system.d/org.dnsvis1.conf", source("org.dnsvis1.conf"))
    put("/usr/share/dbus-1/system-services/org.dnsvis1.service", source("org.dnsvis1.service"))
    put("/usr/share/polkit-1/actions/org.dnsvis1.policy", source("org.dnsvis1.policy"))
    put("/etc/polkit-1/rules.d/60-dnsvis-test.rules", POLKIT_RULE)
    put(CONFIG_PATH, "[Visibility]\nGlobal=no\n")
    container.run("busctl", "call", "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                  "ReloadConfig")


def start_daemon(container):
    return container.run("systemd-run", f"--unit={DAEMON_UNIT}", "-p", "Type=notify", "-p", "StateDirectory=dnsvis",
                         "-E", "ASAN_OPTIONS=detect_leaks=0", dnsvisd_path(), "--output=journal",
                         f"--config={CONFIG_PATH}", check=False)


def run_checks(tap, container, bus):
    container.run("systemd-run", "--unit=dnsvis-test-dns", "-p", "Type=simple", "dnsmasq", "--keep-in-foreground",
                  "--no-resolv", "--no-hosts", f"--listen-address={DNS_ADDRESS}", "--bind-interfaces", "--port=53",
                  "--address=/dbus.test/192.0.2.77", "--user=root", "--pid-file=")
    daemon = start_daemon(container)
    if not tap.check(daemon.returncode == 0, "dnsvisd starts as a notify service and takes org.dnsvis1",
                     daemon.stderr):
        print("# " + container.run("journalctl", "--no-pager", "-u", DAEMON_UNIT, check=False).stdout[-3000:])
        return

    check_introspection(tap, bus)
    pid = container.run("systemctl", "show", "-p", "MainPID", "--value", DAEMON_UNIT, check=False).stdout.strip()
    threads = [line for line in container.run("cat", f"/proc/{pid}/status", check=False).stdout.splitlines()
               if line.startswith("Threads:")]
    tap.equal(threads, ["Threads:\t1"], "the bus is served by the daemon's one event loop: no thread of its own")
    check_properties_and_statistics(tap, container, bus)
    check_unit_scope(tap, container, bus)
    check_bad_input(tap, bus)
    check_authorization(tap, container, bus)
    check_monitor(tap, container, bus)
    check_restart(tap, container, bus)


def check_introspection(tap, bus):
    live = bus.busctl("introspect", "--xml-interface", "org.dnsvis1", "/org/dnsvis1")
    contract = interface_members(open(os.path.join(SOURCE_ROOT, "dbus", "org.dnsvis1.xml")).read())
    served = interface_members(live.stdout) if live.returncode == 0 else None
    tap.check(contract is not None and contract["methods"] and contract["signals"] and contract["properties"],
              "dbus/org.dnsvis1.xml declares org.dnsvis1.Manager", contract)
    tap.equal(served, contract, "the live introspection of /org/dnsvis1 matches dbus/org.dnsvis1.xml", live.stderr)


def check_properties_and_statistics(tap, container, bus):
    version = container.run(dnsvisd_path(), "--version", check=False).stdout.split()
    got = bus.busctl("get-property", "org.dnsvis1", "/org/dnsvis1", INTERFACE, "Version").stdout.split()
    tap.check(len(version) == 2 and got == ["s", f'"{version[1]}"'], "Version is the daemon's version", got)
    probes = bus.busctl("get-property", "org.dnsvis1", "/org/dnsvis1", INTERFACE, "ProbeMode").stdout.split()
    # raw_tp when the exec programs run: a raw tracepoint program of ours is
    # loaded (this is the only dnsvisd running).
    loaded = subprocess.run(["bpftool", "prog", "show"], capture_output=True, text=True).stdout
    follows_execs = any("raw_tracepoint" in line and "dnsvis_" in line for line in loaded.splitlines())
    expected = "cgroup_skb+sock_addr+raw_tp" if follows_execs else "cgroup_skb+sock_addr"
    tap.equal(probes, ["s", f'"{expected}"'], "ProbeMode names the kinds of kernel hook in use", loaded)
    tap.equal(bus.global_visible(), False, "Global is false, as configured ([Visibility] Global=no)")
    keys = set(bus.statistics())
    expected = {"captured", "cut", "filtered", "transactions", "answered", "timeouts", "unmatched_responses",
                "retransmits", "late_answers", "transfer_messages", "parse_errors", "lost", "lost_ringbuf", "lost_tcp", "lost_table", "lost_output",
                "lost_malformed", "lost_unfinished"}
    tap.check(expected <= keys, "GetStatistics returns every counter, loss counters included", sorted(keys))


def check_unit_scope(tap, container, bus):
    unit = "dnsvis-client-a.service"
    before = bus.statistics()
    hidden = fresh_name("hidden")
    asked = query_from_unit(container, unit, hidden)
    tap.equal(asked.returncode, 0, "the transient unit's dig got its answer", asked.stderr)
    time.sleep(2)
    tap.equal(journal(container, f"DNS_NAME={hidden}"), [], "with Global off, a transient unit's query is not reported")
    after = bus.statistics()
    tap.check(isinstance(before.get("captured"), int) and after.get("captured") == before["captured"],
              "with Global off, traffic of cgroups no rule names does not raise the captured counter",
              (before.get("captured"), after.get("captured")))
    # The kernel saw the query and its answer, and counted both as filtered.
    tap.check(isinstance(before.get("filtered"), int) and after.get("filtered", 0) >= before["filtered"] + 2,
              "the query and its answer are counted as filtered", (before.get("filtered"), after.get("filtered")))

    enable = bus.call("EnableUnit", "s", unit)
    tap.equal(enable.returncode, 0, "EnableUnit for a unit that is not running (the rule is kept by name)",
              enable.stderr)
    tap.check(("unit", unit, True) in bus.scopes(), "ListScopes shows the unit rule", bus.scopes())
    time.sleep(1.2)  # within one second
    shown = fresh_name("shown")
    query_from_unit(container, unit, shown)
    found = wait_journal(container, f"DNS_NAME={shown}")
    tap.check(len(found) == 1 and found[0].get("OBJECT_SYSTEMD_UNIT") == unit,
              "after EnableUnit the unit's query is reported, attributed to the unit", found)
    tap.equal(len(journal(container, "-u", unit, f"DNS_NAME={shown}")), 1,
              "journalctl -u <that unit> shows the query")
    other = fresh_name("other")
    query_from_unit(container, "dnsvis-client-b.service", other)
    time.sleep(2)
    tap.equal(journal(container, f"DNS_NAME={other}"), [], "another unit stays invisible")

    disable = bus.call("DisableUnit", "s", unit)
    tap.equal(disable.returncode, 0, "DisableUnit", disable.stderr)
    time.sleep(1.2)
    again = fresh_name("again")
    query_from_unit(container, unit, again)
    time.sleep(2)
    tap.equal(journal(container, f"DNS_NAME={again}"), [], "after DisableUnit the unit's queries are hidden again")

    enable = bus.call("EnableUnit", "s", unit)  # kept for the restart check
    tap.equal(enable.returncode, 0, "EnableUnit again", enable.stderr)


def check_bad_input(tap, bus):
    cases = [
        ("EnableUnit", ["string:"], "org.dnsvis1.Error.InvalidArgument", "an empty unit name"),
        ("EnableUnit", ["string:no/such unit"], "org.dnsvis1.Error.InvalidArgument", "an invalid unit name"),
        ("DisableUnit", ["string:.service"], "org.dnsvis1.Error.InvalidArgument", "a unit name without a prefix"),
        ("EnableProcess", ["uint32:0"], "org.dnsvis1.Error.InvalidArgument", "pid 0"),
        ("EnableProcess", ["uint32:4000000000"], "org.dnsvis1.Error.NoSuchProcess", "an unknown pid"),
        ("EnableContainer", ["string:"], "org.dnsvis1.Error.InvalidArgument", "an empty container"),
        ("EnableContainer", ["string:no-such-container"], "org.dnsvis1.Error.NoSuchContainer",
         "an unknown container"),
        ("SetGlobal", ["string:yes"], "org.freedesktop.DBus.Error.InvalidArgs", "a wrong argument type"),
    ]
    for method, args, expected, what in cases:
        tap.equal(bus.error_name(method, *args), expected, f"{method} with {what} gets {expected}")
    tap.check(bus.daemon_active(), "the daemon is still running after every bad input")


def check_authorization(tap, container, bus):
    scopes_before = bus.scopes()
    refused = bus.call("SetGlobal", "b", "true", uid=NOBODY)
    tap.check(refused.returncode != 0 and "Access denied" in refused.stderr,
              "busctl call SetGlobal as uid 65534 is refused", refused.stderr)
    for method, args in [("SetGlobal", ["boolean:true"]), ("EnableUnit", ["string:x.service"]),
                         ("ResetScopes", []), ("Subscribe", [])]:
        tap.equal(bus.error_name(method, *args, uid=NOBODY), "org.freedesktop.DBus.Error.AccessDenied",
                  f"{method} as uid 65534 gets AccessDenied (polkit running)")
    tap.check(bus.last_error.endswith("Not authorized to org.dnsvis1.manage"), "the refusal names the polkit action",
              bus.last_error)
    tap.equal(bus.scopes(), scopes_before, "a refused call changed nothing")
    # Arguments are checked first: a bad one is refused without polkit,
    # which could keep a call (and its arguments) waiting for minutes.
    tap.equal(bus.error_name("EnableUnit", "string:" + "x" * 300 + ".service", uid=NOBODY),
              "org.dnsvis1.Error.InvalidArgument", "a bad argument from uid 65534 gets InvalidArgument at once")
    tap.check(bus.call("ListScopes", uid=NOBODY).returncode == 0 and
              bus.busctl("get-property", "org.dnsvis1", "/org/dnsvis1", INTERFACE, "Global", uid=NOBODY).returncode
              == 0, "reading (ListScopes, Global) is open to uid 65534")
    own = container.run("setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "dbus-send", "--system",
                        "--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
                        "org.freedesktop.DBus.RequestName", "string:org.dnsvis1", "uint32:4", check=False)
    tap.check(own.returncode != 0 and "org.freedesktop.DBus.Error.AccessDenied" in own.stderr,
              "only root may own org.dnsvis1 (RequestName as uid 65534 is refused)", own.stdout + own.stderr)

    if shutil.which("polkitd") or os.path.exists("/usr/lib/polkit-1/polkitd"):
        allowed = bus.error_name("SetGlobal", "boolean:false", uid=POLKIT_ALLOWED_UID)
        tap.equal(allowed, "", "a user polkit allows org.dnsvis1.manage (asked for its bus name) may change scopes")
        check_authorization_bound(tap, container)
    else:
        print("# polkitd is not installed: the polkit-allowed path is not checked")

    container.run("systemctl", "mask", "--runtime", "--now", "polkit.service", check=False)
    tap.equal(bus.error_name("SetGlobal", "boolean:true", uid=NOBODY), "org.freedesktop.DBus.Error.AccessDenied",
              "without polkit, uid 65534 still gets AccessDenied")
    tap.equal(bus.error_name("SetGlobal", "boolean:true", uid=POLKIT_ALLOWED_UID),
              "org.freedesktop.DBus.Error.AccessDenied", "without polkit, no one but root is allowed")
    container.run("systemctl", "unmask", "--runtime", "polkit.service", check=False)
    tap.equal(bus.global_visible(), False, "Global is still false")
    tap.check(bus.daemon_active(), "the daemon is still running")


def check_authorization_bound(tap, container):
    """One user's checks that polkit is slow to answer (a user's own agent
    may never answer) are bounded per user: the ninth and tenth of ten at
    once are refused, while another user is still asked."""
    call = (f"dbus-send --system --print-reply --reply-timeout=60000 --dest=org.dnsvis1 /org/dnsvis1 "
            f"{INTERFACE}.SetGlobal boolean:false")
    script = (f"for i in 1 2 3 4 5 6 7 8 9 10; do "
              f"setpriv --reuid={POLKIT_SLOW_UID} --regid={POLKIT_SLOW_UID} --clear-groups {call} "
              f">/dev/null 2>/run/dnsvis-slow-$i.err & done; sleep 0.5; "
              f"setpriv --reuid={POLKIT_ALLOWED_UID} --regid={POLKIT_ALLOWED_UID} --clear-groups {call} >/dev/null "
              f"&& echo ALLOWED; wait; cat /run/dnsvis-slow-*.err")
    result = container.run("sh", "-c", script, check=False)
    errors = [line.split()[1].rstrip(":") for line in result.stdout.splitlines() if line.startswith("Error ")]
    tap.check(sorted(errors) == ["org.freedesktop.DBus.Error.AccessDenied"] * 8 +
              ["org.freedesktop.DBus.Error.LimitsExceeded"] * 2,
              "ten checks at once for one user: eight asked of polkit (refused), two refused as LimitsExceeded",
              result.stdout + result.stderr)
    tap.check("ALLOWED" in result.stdout.splitlines(), "meanwhile another user is still asked, and allowed",
              result.stdout + result.stderr)


def signals_seen(container, unit, trigger, member="Transaction"):
    """Signals (`member`) from org.dnsvis1 that `busctl monitor` (the bus's
    own monitoring, which sees unicast signals too) caught while `trigger` ran."""
    container.run("systemd-run", f"--unit={unit}", "-p", f"StandardOutput=file:/run/{unit}.out", "busctl",
                  "monitor", "--json=short", "org.dnsvis1", check=False)
    time.sleep(1)
    trigger()
    time.sleep(1)
    container.run("systemctl", "stop", unit, check=False)
    out = container.run("cat", f"/run/{unit}.out", check=False).stdout
    messages = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return [m for m in messages if m.get("type") == "signal" and m.get("member") == member]


def check_monitor(tap, container, bus):
    unit = "dnsvis-client-a.service"  # enabled above
    container.run("systemd-run", "--unit=dnsvis-monitor", "-p", "RemainAfterExit=yes",
                  "-p", "StandardOutput=file:/run/dnsvis-monitor.out", "-p", "StandardError=file:/run/dnsvis-monitor.err",
                  DNSVISCTL, "--json", "--no-pager", "monitor")
    container.run("systemd-run", "--unit=dnsvis-monitor-text", "-p", "RemainAfterExit=yes",
                  "-p", "StandardOutput=file:/run/dnsvis-monitor-text.out", DNSVISCTL, "--no-pager", "monitor")
    container.run("sh", "-c", f"cp \"$(command -v dig)\" {HOSTILE_DIG}")
    time.sleep(1.5)
    live = fresh_name("live")
    query_from_unit(container, unit, live)
    hostile = fresh_name("hostile-comm")
    query_from_unit(container, unit, hostile, dig=HOSTILE_DIG)
    deadline = time.monotonic() + 10
    lines = []
    while time.monotonic() < deadline:
        out = container.run("cat", "/run/dnsvis-monitor.out", check=False).stdout
        lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        if {live, hostile} <= {e.get("DNS_NAME") for e in lines}:
            break
        time.sleep(0.3)
    match = [e for e in lines if e.get("DNS_NAME") == live]
    tap.check(len(match) == 1 and match[0].get("DNS_OUTCOME") == "answered" and "MESSAGE" in match[0] and
              match[0].get("OBJECT_SYSTEMD_UNIT") == unit,
              "dnsvisctl --json monitor shows a live transaction with its journal fields",
              container.run("cat", "/run/dnsvis-monitor.err", check=False).stdout)
    # sd-bus sends only UTF-8: the byte that is not goes as the text \xff.
    match = [e for e in lines if e.get("DNS_NAME") == hostile]
    tap.equal([e.get("DNS_COMM") for e in match], ["\\xff\x1b[8mdig"],
              "a client whose name is not UTF-8 is still sent to the monitor, its bad byte as \\xff")
    deadline = time.monotonic() + 10
    while True:  # a subscriber of its own: it may be a moment behind the JSON one
        text = container.run("cat", "/run/dnsvis-monitor-text.out", check=False).stdout
        line = [line for line in text.splitlines() if hostile in line]
        if line or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    tap.check(len(line) == 1 and "\\xff\\x1b[8mdig" in line[0] and "\x1b" not in text,
              "dnsvisctl monitor shows that name's control character as \\x1b, never the byte itself", text)
    container.run("systemctl", "stop", "dnsvis-monitor-text.service", check=False)
    container.run("systemctl", "kill", "--signal=SIGTERM", "dnsvis-monitor.service", check=False)
    time.sleep(1)
    status = container.run("systemctl", "show", "-p", "ExecMainStatus", "--value", "dnsvis-monitor.service",
                           check=False).stdout.strip()
    tap.equal(status, "0", "dnsvisctl monitor ends cleanly (unsubscribed) on SIGTERM")
    container.run("systemctl", "stop", "dnsvis-monitor.service", check=False)

    # A subscriber that dies without Unsubscribe: once its name leaves the
    # bus, no more signals are sent.
    container.run("systemd-run", "--unit=dnsvis-monitor-killed", DNSVISCTL, "--no-pager", "monitor")
    time.sleep(1.5)
    seen = signals_seen(container, "dnsvis-busctl-monitor-1",
                        lambda: query_from_unit(container, unit, fresh_name("subscribed")))
    tap.check(len(seen) >= 1, "while a client is subscribed, Transaction signals are sent to it", seen)
    container.run("systemctl", "kill", "--signal=SIGKILL", "dnsvis-monitor-killed.service", check=False)
    time.sleep(1)
    seen = signals_seen(container, "dnsvis-busctl-monitor-2",
                        lambda: query_from_unit(container, unit, fresh_name("unsubscribed")))
    tap.equal(seen, [], "after the subscriber is killed, no Transaction signal is sent at all")

    ctl = container.run(DNSVISCTL, "--no-pager", "status", check=False)
    tap.check(ctl.returncode == 0 and "Probes: cgroup_skb+sock_addr" in ctl.stdout, "dnsvisctl status", ctl.stdout + ctl.stderr)
    ctl = container.run(DNSVISCTL, "--json", "scopes", check=False)
    tap.check(ctl.returncode == 0 and {"kind": "unit", "target": unit, "enabled": True} in json.loads(ctl.stdout or "[]"),
              "dnsvisctl --json scopes", ctl.stdout + ctl.stderr)
    ctl = container.run(DNSVISCTL, "enable", "process", "4000000000", check=False)
    tap.equal(ctl.returncode, 3, "dnsvisctl enable process <unknown pid> exits 3", ctl.stderr)
    ctl = container.run(DNSVISCTL, "enable", "unit", "", check=False)
    tap.equal(ctl.returncode, 2, "dnsvisctl enable unit '' exits 2", ctl.stderr)
    ctl = container.run("setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", DNSVISCTL,
                        "disable", "global", check=False)
    tap.equal(ctl.returncode, 4, "dnsvisctl as uid 65534 exits 4 (access denied)", ctl.stderr)
    ctl = container.run(DNSVISCTL, "frobnicate", check=False)
    tap.equal(ctl.returncode, 2, "dnsvisctl with an unknown command exits 2")

    # On a terminal (script(1) gives it one) long output goes through
    # $SYSTEMD_PAGER; --no-pager and a pipe do without.
    pager = "SYSTEMD_PAGER='sed s/^/paged:/'"
    paged = container.run("script", "-qec", f"{pager} {DNSVISCTL} scopes", "/dev/null", check=False).stdout
    tap.check("paged:KIND" in paged, "dnsvisctl scopes on a terminal uses $SYSTEMD_PAGER", paged)
    unpaged = container.run("script", "-qec", f"{pager} {DNSVISCTL} --no-pager scopes", "/dev/null",
                            check=False).stdout
    tap.check("KIND" in unpaged and "paged:" not in unpaged, "--no-pager prints directly", unpaged)

    completion = container.run("bash", "-c", f"source {SOURCE_ROOT}/dnsvisctl/dnsvisctl.bash-completion; "
                               "COMP_WORDS=(dnsvisctl disable ''); COMP_CWORD=2; _dnsvisctl; echo ${COMPREPLY[@]}",
                               check=False).stdout.split()
    tap.equal(completion, ["global", "unit", "container", "process"], "bash completion offers the scope kinds")


def check_restart(tap, container, bus):
    unit = "dnsvis-client-a.service"
    before = sorted(bus.scopes())
    restart = container.run("systemctl", "restart", DAEMON_UNIT, check=False)
    tap.equal(restart.returncode, 0, "the daemon restarts", restart.stderr)
    after = sorted(bus.scopes())
    tap.check(("unit", unit, True) in after and after == before, "the scopes survive a restart",
              f"before {before}\nafter {after}")
    name = fresh_name("restarted")
    query_from_unit(container, unit, name)
    tap.equal(len(wait_journal(container, f"DNS_NAME={name}")), 1, "and they apply again after the restart")

    reset = bus.call("ResetScopes")
    tap.equal(reset.returncode, 0, "ResetScopes", reset.stderr)
    tap.check(not [s for s in bus.scopes() if s[0] != "global"] and bus.global_visible() is False,
              "ResetScopes drops every rule and Global is the configured default again", bus.scopes())

    changed = signals_seen(container, "dnsvis-busctl-monitor-3", lambda: bus.call("SetGlobal", "b", "true"),
                           member="PropertiesChanged")
    tap.check(len(changed) == 1 and "Global" in json.dumps(changed[0].get("payload")),
              "SetGlobal emits PropertiesChanged for Global", changed)
    tap.equal(bus.global_visible(), True, "Global reads back true")

    # A change that takes effect but cannot be saved (the state directory
    # read-only) is refused as Failed, and still announced.
    container.run("mount", "--bind", "/var/lib/dnsvis", "/var/lib/dnsvis")
    container.run("mount", "-o", "remount,bind,ro", "/var/lib/dnsvis")
    errors = []
    try:
        changed = signals_seen(container, "dnsvis-busctl-monitor-4",
                               lambda: errors.append(bus.error_name("SetGlobal", "boolean:false")),
                               member="PropertiesChanged")
    finally:
        container.run("umount", "/var/lib/dnsvis", check=False)
    tap.check(errors == ["org.dnsvis1.Error.Failed"] and "cannot be saved" in bus.last_error,
              "a change that cannot be saved: Failed, saying so", f"{errors} {bus.last_error}")
    tap.check(len(changed) == 1 and "Global" in json.dumps(changed[0].get("payload")) and
              bus.global_visible() is False, "it is in effect, and PropertiesChanged says so", changed)

    stop = container.run("systemctl", "stop", DAEMON_UNIT, check=False)
    tap.equal(stop.returncode, 0, "the daemon stops")
    check_activation(tap, container, bus)


def check_activation(tap, container, bus):
    """dbus/org.dnsvis1.service: a call to org.dnsvis1 starts dnsvis.service.
    The real unit is units/dnsvis.service; this one runs the build's daemon."""
    with open(container.root + "/etc/systemd/system/dnsvis.service", "w") as unit:
        unit.write("[Service]\nType=notify\nBusName=org.dnsvis1\nStateDirectory=dnsvis\n"
                   "Environment=ASAN_OPTIONS=detect_leaks=0\n"
                   f"ExecStart={dnsvisd_path()} --output=journal --config={CONFIG_PATH}\n")
    container.run("systemctl", "daemon-reload")
    tap.equal(container.run("systemctl", "is-active", "dnsvis.service", check=False).stdout.strip(), "inactive",
              "dnsvis.service is not running")
    listed = bus.call("ListScopes")
    tap.check(listed.returncode == 0 and listed.stdout.startswith("a(ssb)"),
              "a call to org.dnsvis1 activates dnsvis.service and is answered", listed.stderr)
    tap.equal(container.run("systemctl", "is-active", "dnsvis.service", check=False).stdout.strip(), "active",
              "dnsvis.service runs after bus activation")
    container.run("systemctl", "stop", "dnsvis.service", check=False)


if __name__ == "__main__":
    main()
