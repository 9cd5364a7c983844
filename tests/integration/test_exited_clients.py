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
import os, socket

def ask(query):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    s.sendto(query, ("{server}", 53))
    s.recv(4096)

ask({query!r})
# A forked worker that never execs: it runs its parent's program.
child = os.fork()
if child == 0:
    ask({child_query!r})
    os._exit(0)
_, status = os.waitpid(child, 0)
print(os.getpid(), child)
raise SystemExit(os.waitstatus_to_exitcode(status))
"""


# A client started before dnsvisd: it asks once told to, and exits.
EARLY_CLIENT = """import socket, sys
sys.stdin.readline()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto({query!r}, ("{server}", 53))
s.recv(4096)
"""


def raw_tracepoint_links(pid):
    """{link id: program name} of the raw tracepoint links process `pid`
    holds, from its descriptors: another dnsvisd on the host does not count."""
    links = {}
    fdinfo = f"/proc/{pid}/fdinfo"
    for fd in os.listdir(fdinfo):
        try:
            info = dict(line.split(":", 1) for line in open(os.path.join(fdinfo, fd)).read().splitlines()
                        if ":" in line)
        except OSError:
            continue
        if info.get("link_type", "").strip() == "raw_tracepoint":
            program = subprocess.run(["bpftool", "-j", "prog", "show", "id", info["prog_id"].strip()],
                                     capture_output=True, text=True).stdout
            links[int(info["link_id"])] = json.loads(program or "{}").get("name")
    return links


def link_ids():
    out = subprocess.run(["bpftool", "-j", "link", "show"], capture_output=True, text=True).stdout
    return {link["id"] for link in json.loads(out or "[]")}


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
    # The shebang names the interpreter through a symbolic link, as
    # /usr/bin/python3 does on Debian: DNS_EXE names the file it leads to,
    # as /proc/PID/exe would.
    interpreter = os.path.join(work, "python-link")
    os.symlink(sys.executable, interpreter)
    with open(script, "w") as f:
        f.write(SCRIPT.format(interpreter=interpreter, server=NSD_ADDRESS,
                              query=dns_query(777, "text.example.test"),
                              child_query=dns_query(778, "x.wild.example.test")))
    os.chmod(script, 0o755)

    # Its exec happened before dnsvisd was there to see it: dnsvisd records
    # the running processes' executables when it starts.
    early = subprocess.Popen([sys.executable, "-c", EARLY_CLIENT.format(query=dns_query(779, "alias.example.test"),
                                                                       server=NSD_ADDRESS)],
                             stdin=subprocess.PIPE, text=True)
    try:
        daemon = Dnsvisd(work, "")
    except BaseException:
        early.kill()
        raise
    clients = {}
    try:
        links = raw_tracepoint_links(daemon.process.pid)
        tap.equal(sorted(links.values()), ["dnsvis_exec", "dnsvis_fork"], "dnsvisd follows execs and forks")
        daemon.process.send_signal(signal.SIGSTOP)
        try:
            dig_process = subprocess.Popen(["dig", "+tries=1", "+time=3", f"@{NSD_ADDRESS}", "host.example.test",
                                            "A"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            dig_pid = dig_process.pid
            out, err = dig_process.communicate(timeout=30)
            dig = subprocess.CompletedProcess(dig_process.args, dig_process.returncode, out, err)
            tap.check("192.0.2.30" in dig.stdout, "dig got its answer", dig.stdout + dig.stderr)
            # getent through a private resolv.conf: its own mount namespace,
            # but the host's root, so its path is resolved like the others.
            getent = subprocess.Popen(["unshare", "-m", "sh", "-c",
                                       f"mount --bind {resolv} /etc/resolv.conf && exec getent ahostsv4 www.example.test"],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            out, err = getent.communicate(timeout=30)
            tap.check("192.0.2.10" in out, "getent resolved through NSD", out + err)
            scripted = subprocess.run([script], capture_output=True, text=True, timeout=30)
            tap.equal(scripted.returncode, 0, "the script and its forked worker got their answers", scripted.stderr)
            parent_pid, child_pid = (scripted.stdout.split() + ["", ""])[:2]
            early.stdin.write("ask\n")
            early.stdin.close()
            tap.equal(early.wait(timeout=30), 0, "the client started before dnsvisd got its answer")
            clients = {
                "host.example.test": ("dig", os.path.realpath(shutil.which("dig")), str(dig_pid)),
                "www.example.test": ("getent", os.path.realpath(shutil.which("getent")), str(getent.pid)),
                "text.example.test": (os.path.basename(script)[:15], os.path.realpath(sys.executable), parent_pid),
                "x.wild.example.test": (os.path.basename(script)[:15], os.path.realpath(sys.executable), child_pid),
                "alias.example.test": (os.path.basename(sys.executable)[:15], os.path.realpath(sys.executable),
                                       str(early.pid)),
            }
            # Every client has exited and been reaped: /proc has nothing of them.
        finally:
            daemon.process.send_signal(signal.SIGCONT)

        for name, (comm, exe, pid) in clients.items():
            found = daemon.wait_for(by_name(name, DNS_COMM=comm, DNS_PID=pid))
            tap.check(found, f"{comm}[{pid}]: its transaction for {name} is reported", daemon.stderr())
            for entry in found:
                tap.equal(entry.get("DNS_EXE"), exe, f"{comm}: DNS_EXE names its executable after it exited",
                          json.dumps(entry))
    finally:
        if early.poll() is None:
            early.kill()
        exit_code = daemon.stop()
        nsd.stop()
    tap.equal(exit_code, 0, "dnsvisd stopped cleanly", daemon.stderr())
    tap.check(links and not set(links) & link_ids(), "the exec and fork links are gone after stop", links)
    tap.finish()


if __name__ == "__main__":
    main()
