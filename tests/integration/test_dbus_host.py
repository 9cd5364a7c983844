#!/usr/bin/env python3
"""Process and container rules over org.dnsvis1, with dnsvisd on the host:
a private dbus-daemon configured as a system bus with dnsvis's bus policy
(this machine's PID 1 is not systemd, so it has no system bus), a real
process sending DNS queries, and real Docker containers from a private
dockerd. Global visibility is off, so only what a rule names is reported.

Here rather than in the booted systemd of test_dbus.py: there, the daemon
sits in the container's pid namespace, whose pids are not the ones the
kernel programs see, and dockerd does not run inside nspawn."""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from container_runtimes import busybox_rootfs, docker_import, Dockerd
from dnsvis_testlib import NSD_ADDRESS, Dnsvisd, Nsd, Tap, require_root_and_tools, workdir
from private_system_bus import PrivateSystemBus

SOURCE_ROOT = os.environ.get("DNSVIS_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
INTERFACE = "org.dnsvis1.Manager"
IMAGE = "dnsvis-dbus-test:latest"

# One DNS query every half second from this one process (dig would be a new
# process, hence a new thread group, for every query).
QUERY_LOOP = f"""
import os, socket, struct, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
i = 0
while True:
    name = "p%d-%d.wild.example.test" % (i, os.getpid())
    query = struct.pack(">HHHHHH", i & 0xffff, 0x0100, 1, 0, 0, 0)
    query += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\\0" + struct.pack(">HH", 1, 1)
    s.sendto(query, ("{NSD_ADDRESS}", 53))
    try:
        s.recv(512)
    except socket.timeout:
        pass
    i += 1
    time.sleep(0.5)
"""


class Bus:
    def __init__(self, env):
        self.env = env

    def call(self, method, *typed_args):
        """dbus-send, which prints the error name: ("", reply) or (error name, message)."""
        result = subprocess.run(["dbus-send", "--system", "--print-reply", "--reply-timeout=30000",
                                 "--dest=org.dnsvis1", "/org/dnsvis1", f"{INTERFACE}.{method}", *typed_args],
                                capture_output=True, text=True, env=self.env, timeout=60)
        if result.returncode == 0:
            return "", result.stdout
        for line in result.stderr.splitlines():
            if line.startswith("Error "):
                name, _, message = line[len("Error "):].partition(": ")
                return name, message
        return result.stderr.strip(), ""

    def scopes(self):
        out = subprocess.run(["busctl", "--json=short", "call", "org.dnsvis1", "/org/dnsvis1", INTERFACE,
                              "ListScopes"], capture_output=True, text=True, env=self.env).stdout
        return [tuple(row) for row in json.loads(out)["data"][0]] if out else []


def main():
    require_root_and_tools("nsd", "dig", "dbus-daemon", "dbus-send", "busctl", "dockerd", "docker",
                           "/bin/busybox")
    tap = Tap()
    work = workdir()
    bus = dockerd = nsd = daemon = loop = None
    try:
        bus = PrivateSystemBus(work, os.path.join(SOURCE_ROOT, "dbus", "org.dnsvis1.conf"))
        os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = bus.address  # for dnsvisd, started below
        nsd = Nsd(work)
        dockerd = Dockerd(work)
        docker_import(dockerd, busybox_rootfs(work), IMAGE)
        daemon = Dnsvisd(work, f"[Visibility]\nGlobal=no\n[Containers]\nDockerSocket={dockerd.socket}\n",
                         extra_args=[f"--state-dir={work}/state"])
        client = Bus(bus.env())
        loop = subprocess.Popen([sys.executable, "-c", QUERY_LOOP])
        check_process(tap, daemon, client, loop.pid)
        check_containers(tap, daemon, client, dockerd)
        tap.check(daemon.process.poll() is None, "the daemon is still running")
        daemon.stop()
        daemon = None
        check_without_bus(tap, work, bus)
    finally:
        if loop:
            loop.kill()
            loop.wait()
        if daemon:
            daemon.stop()
        if dockerd:
            for container in dockerd.docker("ps", "-aq", check=False).stdout.split():
                dockerd.docker("rm", "-f", container, check=False)
            dockerd.stop()
        if nsd:
            nsd.stop()
        if bus:
            bus.stop()
    tap.finish()


def of_pid(pid):
    return lambda e: e.get("DNS_PID") == str(pid)


def check_process(tap, daemon, client, pid):
    time.sleep(1.5)
    tap.equal([e for e in daemon.entries() if of_pid(pid)(e)], [], "a process no rule names is not reported")
    tap.equal(client.call("EnableProcess", f"uint32:{pid}")[0], "", "EnableProcess")
    tap.check(("process", str(pid), True) in client.scopes(), "ListScopes shows the process rule", client.scopes())
    found = daemon.wait_for(of_pid(pid), timeout=5)
    tap.check(found and all(e.get("DNS_NAME", "").endswith(".wild.example.test") and
                            e.get("DNS_ANSWERS") == "192.0.2.40" for e in found),
              "after EnableProcess the process's queries are reported", found[:2])
    tap.equal(client.call("DisableProcess", f"uint32:{pid}")[0], "", "DisableProcess")
    time.sleep(1.5)
    count = len([e for e in daemon.entries() if of_pid(pid)(e)])
    time.sleep(2)
    tap.equal(len([e for e in daemon.entries() if of_pid(pid)(e)]), count,
              "after DisableProcess nothing more is reported")


def run_container(dockerd, name, command):
    out = dockerd.docker("run", "-d", "--network=host", f"--name={name}", IMAGE, "sh", "-c", command)
    return out.stdout.strip()


def check_containers(tap, daemon, client, dockerd):
    name = "dnsvis-dbus-asker"
    container_id = run_container(dockerd, name,
                                 f"while :; do nslookup www.example.test {NSD_ADDRESS}; sleep 0.5; done")
    of_container = lambda e: e.get("CONTAINER_ID_FULL") == container_id
    time.sleep(2)
    tap.equal([e for e in daemon.entries() if of_container(e)], [],
              "a container no rule names is not reported")

    # The daemon has not needed this container's name yet: the reply waits
    # until Docker has told it (set_container_async), no "try again".
    error, message = client.call("EnableContainer", f"string:{name}")
    tap.equal(error, "", "EnableContainer by the name of a container the daemon has not asked Docker about",
              message)
    tap.check(("container", container_id, True) in client.scopes(), "ListScopes shows the container rule by full id",
              client.scopes())
    found = daemon.wait_for(of_container, timeout=5)
    tap.check(found and found[-1].get("CONTAINER_NAME") == name and found[-1].get("DNS_NAME") == "www.example.test",
              "after EnableContainer the container's queries are reported, with its name", found[-1:])

    tap.equal(client.call("DisableContainer", f"string:{container_id[:12]}")[0], "",
              "DisableContainer by a unique id prefix")
    time.sleep(1.5)
    count = len([e for e in daemon.entries() if of_container(e)])
    time.sleep(2)
    tap.equal(len([e for e in daemon.entries() if of_container(e)]), count,
              "after DisableContainer nothing more is reported")

    tap.equal(client.call("EnableContainer", "string:no-such-container")[0], "org.dnsvis1.Error.NoSuchContainer",
              "an unknown container gets NoSuchContainer")

    # Two running containers whose ids start alike: their common prefix is
    # ambiguous. 17 ids hold two with the same first hex digit for sure.
    ids = [container_id]
    prefix = None
    for n in range(16):
        by_first = {}
        for known in ids:
            by_first.setdefault(known[0], []).append(known)
        pair = next((group for group in by_first.values() if len(group) > 1), None)
        if pair:
            prefix = os.path.commonprefix(pair[:2])
            break
        ids.append(run_container(dockerd, f"dnsvis-dbus-idle-{n}", "sleep 600"))
    time.sleep(0.5)
    error, message = client.call("EnableContainer", f"string:{prefix}")
    tap.equal(error, "org.dnsvis1.Error.AmbiguousContainer", f"the id prefix {prefix!r} of two containers is ambiguous",
              message)


def check_without_bus(tap, work, bus):
    """No system bus is one notice, not a failure; --no-bus leaves it alone."""
    os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = f"unix:path={work}/no-such-bus"
    daemon = Dnsvisd(work, "", extra_args=[f"--state-dir={work}/state"])
    subprocess.run(["dig", "+tries=1", "+time=2", f"@{NSD_ADDRESS}", "host.example.test"], capture_output=True)
    captured = daemon.wait_for(lambda e: e.get("DNS_NAME") == "host.example.test", timeout=5)
    daemon.stop()
    notices = [line for line in daemon.stderr().splitlines() if "No D-Bus control" in line]
    tap.check(len(notices) == 1 and len(captured) == 1,
              "without a system bus dnsvisd says so once and captures anyway", daemon.stderr())

    os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = bus.address
    daemon = Dnsvisd(work, "", extra_args=[f"--state-dir={work}/state", "--no-bus"])
    owner = subprocess.run(["busctl", "status", "org.dnsvis1"], capture_output=True, text=True, env=bus.env())
    daemon.stop()
    tap.check(owner.returncode != 0 and "No D-Bus control" not in daemon.stderr(),
              "with --no-bus dnsvisd neither takes org.dnsvis1 nor complains", owner.stdout + daemon.stderr())


if __name__ == "__main__":
    main()
