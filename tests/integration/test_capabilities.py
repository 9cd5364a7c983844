#!/usr/bin/env python3
"""dnsvisd gives up every capability but CAP_SYS_PTRACE once its programs are
attached, and capture still works afterwards: a query of another user's
process is still reported, with the process's executable. And it captures
when started without CAP_PERFMON and CAP_SYS_ADMIN, which the kernel wants
for reading its memory and, on recent kernels, for bpf_get_current_comm()
(before, the programs were refused and dnsvisd did not start)."""
import os
import pwd
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from dnsvis_testlib import (CAP_SYS_PTRACE, NSD_ADDRESS, WITHOUT_KERNEL_READS, Dnsvisd, Nsd, Tap,
                            attached_dnsvis_program_names, by_name, capability_sets, require_root_and_tools,
                            threads_holding_more, workdir)

CAP_SYS_ADMIN = 21
CAP_PERFMON = 38


def main():
    require_root_and_tools("nsd", "dig", "setpriv")
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        from dnsvis_testlib import skip
        skip("there is no user nobody to run the client as")
    tap = Tap()
    work = workdir()
    nsd = Nsd(work)
    daemon = None
    try:
        before = capability_sets(os.getpid())
        daemon = Dnsvisd(work, "")
        after = capability_sets(daemon.process.pid)
        expected = 1 << CAP_SYS_PTRACE
        tap.equal(hex(after["CapEff"]), hex(expected), "CapEff is exactly CAP_SYS_PTRACE once attached")
        tap.equal(hex(after["CapPrm"]), hex(expected), "CapPrm is exactly CAP_SYS_PTRACE: nothing can be regained")
        tap.equal(after["CapInh"] | after["CapAmb"], 0, "no inheritable or ambient capabilities")
        tasks = os.listdir(f"/proc/{daemon.process.pid}/task")
        tap.check(len(tasks) >= 2, "dnsvisd runs a thread besides the main one (it writes its file output)",
                  f"{len(tasks)} task(s)")
        tap.equal(threads_holding_more(daemon.process.pid, expected), [],
                  "no thread holds more than CAP_SYS_PTRACE (the file writer's thread drops its own)")
        # Started by root with CAP_SETPCAP, it can and does empty the bounding set too.
        if before["CapEff"] & (1 << 8):
            tap.equal(hex(after["CapBnd"]), hex(expected), "the bounding set is reduced to CAP_SYS_PTRACE")

        name = "www.example.test"
        query = subprocess.run(["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups",
                                "dig", "+tries=2", "+time=2", f"@{NSD_ADDRESS}", name, "A"],
                               capture_output=True, text=True, timeout=30)
        tap.check("192.0.2.10" in query.stdout, "the client, running as nobody, got its answer", query.stderr)
        found = daemon.wait_for(by_name(name, DNS_UID=str(nobody.pw_uid)))
        tap.equal(len(found), 1, "the query of nobody's dig is captured after the drop")
        if found:
            tap.equal(found[0].get("DNS_EXE"), os.path.realpath(subprocess.run(
                ["sh", "-c", "command -v dig"], capture_output=True, text=True).stdout.strip()),
                "DNS_EXE of another user's process is read with CAP_SYS_PTRACE alone")
            tap.equal(found[0].get("DNS_OUTCOME"), "answered", "the response is matched")
        tap.equal(daemon.stop(), 0, "dnsvisd exits cleanly with the reduced set (detaching needs nothing more)")
        tap.check("Running with more privilege" not in daemon.stderr(), "no warning about the drop",
                  daemon.stderr())
        check_without_kernel_reads(tap, work, nobody)
    finally:
        if daemon:
            daemon.stop()
        nsd.stop()
    tap.finish()


def check_without_kernel_reads(tap, work, nobody):
    run = os.path.join(work, "without-kernel-reads")
    os.makedirs(run)
    daemon = Dnsvisd(run, "", prefix=["setpriv", f"--bounding-set={WITHOUT_KERNEL_READS}"])
    try:
        bounding = capability_sets(daemon.process.pid)["CapBnd"]
        tap.check(not bounding & (1 << CAP_PERFMON | 1 << CAP_SYS_ADMIN),
                  "dnsvisd runs without CAP_PERFMON and CAP_SYS_ADMIN in its bounding set", hex(bounding))
        attached = [name for name in attached_dnsvis_program_names()
                    if name in ("dnsvis_egress", "dnsvis_ingress", "dnsvis_eg_plain", "dnsvis_in_plain")]
        tap.equal(len(attached), 2, "without CAP_PERFMON: an egress and an ingress program are attached", attached)
        name = "host.example.test"
        query = subprocess.Popen(["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups",
                                  "dig", "+tries=2", "+time=2", f"@{NSD_ADDRESS}", name, "A"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        out, err = query.communicate(timeout=30)
        tap.check("192.0.2.30" in out, "without CAP_PERFMON: nobody's dig got its answer", err)
        found = daemon.wait_for(by_name(name, DNS_PROTOCOL="udp"))
        tap.check(len(found) == 1 and found[0].get("DNS_PID") == str(query.pid)
                  and found[0].get("DNS_UID") == str(nobody.pw_uid) and found[0].get("DNS_OUTCOME") == "answered",
                  "without CAP_PERFMON: the UDP query is reported with dig's pid and uid, answered", found)
        tcp_query = subprocess.Popen(["dig", "+tcp", "+tries=1", "+time=2", f"@{NSD_ADDRESS}", "mail.example.test", "MX"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        tcp_query.communicate(timeout=30)
        found = daemon.wait_for(by_name("mail.example.test", DNS_PROTOCOL="tcp"))
        tap.check(len(found) == 1 and found[0].get("DNS_OUTCOME") == "answered"
                  and found[0].get("DNS_PID") == str(tcp_query.pid),
                  "without CAP_PERFMON: a TCP query is reported with dig's pid, answered", found)
        tap.equal(daemon.stop(), 0, "without CAP_PERFMON: dnsvisd exits cleanly")
    finally:
        daemon.stop()


if __name__ == "__main__":
    main()
