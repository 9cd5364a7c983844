#!/usr/bin/env python3
"""Clients that exit before dnsvisd handles their query still carry
DNS_EXE. Most short-lived clients (dig, getent, a script) are gone by the
time the ring is drained, up to 100 ms after the packet, and their
/proc/PID/exe with them; dnsvisd then names the executable from the
kernel's record of the client's last exec (the dnsvis_exec program).

To make "gone first" certain rather than likely, dnsvisd is stopped
(SIGSTOP) while the clients run and exit, and continued afterwards."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from dnsvis_testlib import (NSD_ADDRESS, Dnsvisd, Nsd, Tap, by_name, dns_query, require_root_and_tools, skip,
                            workdir)

# A client that is a script: the kernel runs its interpreter, and DNS_EXE
# names the interpreter, as /proc/PID/exe would have.
SCRIPT = """#!{interpreter}
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto({query!r}, ("{server}", 53))
s.recv(4096)
"""


def bpf_program_names():
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True).stdout
    return {p.get("name", "") for p in json.loads(out or "[]")}


def main():
    require_root_and_tools("nsd", "dig", "getent", "unshare", "bpftool")
    if not os.path.exists("/sys/kernel/btf/vmlinux"):
        skip("the kernel has no BTF (/sys/kernel/btf/vmlinux): dnsvisd cannot follow execs here")
    tap = Tap()
    work = workdir()
    nsd = Nsd(work)
    resolv = os.path.join(work, "resolv.conf")
    with open(resolv, "w") as f:
        f.write(f"nameserver {NSD_ADDRESS}\noptions attempts:1\n")
    script = os.path.join(work, "exiting-client.py")
    with open(script, "w") as f:
        f.write(SCRIPT.format(interpreter=sys.executable, server=NSD_ADDRESS,
                              query=dns_query(777, "text.example.test")))
    os.chmod(script, 0o755)

    daemon = Dnsvisd(work, "")
    clients = {}
    try:
        tap.check("dnsvis_exec" in bpf_program_names(), "the exec program is loaded")
        daemon.process.send_signal(signal.SIGSTOP)
        try:
            dig = subprocess.run(["dig", "+tries=1", "+time=3", f"@{NSD_ADDRESS}", "host.example.test", "A"],
                                 capture_output=True, text=True, timeout=30)
            tap.check("192.0.2.30" in dig.stdout, "dig got its answer", dig.stdout + dig.stderr)
            # getent through a private resolv.conf: its own mount namespace,
            # but the host's root, so its path is resolved like the others.
            getent = subprocess.Popen(["unshare", "-m", "sh", "-c",
                                       f"mount --bind {resolv} /etc/resolv.conf && exec getent ahostsv4 www.example.test"],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            out, err = getent.communicate(timeout=30)
            tap.check("192.0.2.10" in out, "getent resolved through NSD", out + err)
            scripted = subprocess.run([script], capture_output=True, text=True, timeout=30)
            tap.equal(scripted.returncode, 0, "the script got its answer", scripted.stderr)
            clients = {
                "host.example.test": ("dig", os.path.realpath(shutil.which("dig"))),
                "www.example.test": ("getent", os.path.realpath(shutil.which("getent"))),
                "text.example.test": (os.path.basename(script)[:15], os.path.realpath(sys.executable)),
            }
            # Every client has exited and been reaped: /proc has nothing of them.
        finally:
            daemon.process.send_signal(signal.SIGCONT)

        for name, (comm, exe) in clients.items():
            found = daemon.wait_for(by_name(name, DNS_COMM=comm))
            tap.check(found, f"{comm}: its transaction for {name} is reported", daemon.stderr())
            for entry in found:
                tap.equal(entry.get("DNS_EXE"), exe, f"{comm}: DNS_EXE names its executable after it exited",
                          json.dumps(entry))
    finally:
        exit_code = daemon.stop()
        nsd.stop()
    tap.equal(exit_code, 0, "dnsvisd stopped cleanly", daemon.stderr())
    tap.check("dnsvis_exec" not in bpf_program_names(), "no dnsvis_exec program is left after stop")
    tap.finish()


if __name__ == "__main__":
    main()
