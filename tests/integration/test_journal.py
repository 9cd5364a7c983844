#!/usr/bin/env python3
"""A transaction written through the journal sink, read back with
`journalctl -o json` in a booted systemd, and found by unit."""
import os
import shutil
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from booted_systemd import boot_systemd, journal, wait_journal
from dnsvis_testlib import Tap, dnsvisd_path, require_root_and_tools

DNS_ADDRESS = "127.53.0.2"


def main():
    require_root_and_tools("systemd-nspawn", "nsenter", "dnsmasq", "dig")
    tap = Tap()
    container = boot_systemd(bind_read_only=[os.path.dirname(os.path.realpath(dnsvisd_path()))])
    try:
        run_checks(tap, container)
    finally:
        container.stop()
    tap.finish()


def run_checks(tap, container):
    container.run("systemd-run", "--unit=dnsvis-test-dns", "-p", "Type=simple", "dnsmasq", "--keep-in-foreground",
                  "--no-resolv", "--no-hosts", f"--listen-address={DNS_ADDRESS}", "--bind-interfaces", "--port=53",
                  "--address=/journal.test/192.0.2.77", "--user=root", "--pid-file=")
    daemon = container.run("systemd-run", "--unit=dnsvis-under-test", "-p", "Type=notify",
                           "-E", "ASAN_OPTIONS=detect_leaks=0", dnsvisd_path(), "--output=journal",
                           "--config=/dev/null", check=False)
    tap.equal(daemon.returncode, 0, "dnsvisd starts as a notify service in the booted systemd", daemon.stderr)

    name = f"probe-{uuid.uuid4().hex[:8]}.journal.test"
    # The client lingers a moment so its unit's cgroup is still there to be named.
    client = container.run("systemd-run", "--unit=dnsvis-client", "--wait", "sh", "-c",
                           f"dig +tries=3 +time=1 @{DNS_ADDRESS} {name} A; sleep 1", check=False)
    tap.check(client.returncode == 0, "the client unit ran", client.stderr)

    found = wait_journal(container, f"DNS_NAME={name}")
    tap.equal(len(found), 1, "journalctl DNS_NAME= finds exactly one entry")
    if found:
        e = found[0]
        tap.equal(e.get("DNS_OUTCOME"), "answered", "outcome")
        tap.equal(e.get("DNS_ANSWERS"), "192.0.2.77", "answers")
        tap.equal(e.get("DNS_RCODE"), "NOERROR", "rcode")
        tap.equal(e.get("DNS_COMM"), "dig", "comm")
        tap.equal(e.get("DNS_TYPE"), "A", "type")
        tap.equal(e.get("DNS_SERVER"), f"{DNS_ADDRESS}:53", "server")
        tap.equal(e.get("OBJECT_SYSTEMD_UNIT"), "dnsvis-client.service", "the client's unit")
        tap.equal(e.get("_SYSTEMD_UNIT"), "dnsvis-under-test.service", "written by the daemon's unit")
        tap.equal(e.get("MESSAGE_ID"), "44f8838485b245d4ac2a7d9509a49043", "message id")
        tap.equal(e.get("PRIORITY"), "6", "priority")
        tap.equal(e.get("SYSLOG_IDENTIFIER"), "dnsvis", "identifier")
        tap.check(0 < int(e.get("DNS_LATENCY_USEC", "0")) < 3_000_000, "latency, within dig's three tries",
                  e.get("DNS_LATENCY_USEC"))
        # The kernel names the host's pid, which the container's shell
        # cannot tell (test_capture checks the pid itself).
        tap.check(e.get("DNS_PID", "").isdigit() and int(e["DNS_PID"]) > 1, "a pid", e.get("DNS_PID"))
        tap.check(e.get("DNS_CLIENT", "").startswith("127."), "client address", e.get("DNS_CLIENT"))

    by_unit = journal(container, "-u", "dnsvis-client.service", f"DNS_NAME={name}")
    tap.equal(len(by_unit), 1, "journalctl -u <client unit> shows the client's DNS transaction")

    stop = container.run("systemctl", "stop", "dnsvis-under-test.service", check=False)
    tap.equal(stop.returncode, 0, "the daemon stops")
    summaries = wait_journal(container, "MESSAGE_ID=6865af7173214451bda6f168d9555bf0")
    tap.check(summaries and summaries[-1].get("DNSVIS_LOST") == "0" and
              int(summaries[-1].get("DNSVIS_TRANSACTIONS", "0")) >= 1,
              "a summary entry is written on stop, with nothing lost", summaries[-1] if summaries else None)


if __name__ == "__main__":
    main()
