#!/usr/bin/env python3
"""A DNS-over-TCP answer whose first segment the network loses: the kernel
retransmits it after its RTO, and dnsvis must wait for that, report the whole
answer, lose nothing, and time the answer from when the gap filled (when dig
could read it), not from when the segment behind the gap arrived.

Runs in a network namespace of its own: an iptables rule drops the answer's
first segment on its way in, and its first two retransmissions, and loss
recovery is left to the RTO (no RACK, no tail loss probe), so the segment
comes at least 600 ms later: longer than a reorder wait of a few hundred
milliseconds would hold the data behind it. The server
is this script (`--serve`), which writes the answer in two segments."""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from dnsvis_testlib import (Dnsvisd, NetworkNamespace, Tap, accept_tcp_dns_client, by_name, framed, read_framed,
                            require_root_and_tools, skip, txt_answer, workdir)

NETNS = "dnsvis-test-tcploss"
NAME = "lost.tcp.test"
MARKER = b"dnsvis-lost-segment"  # only in the first segment: the one dropped
GAP_SECONDS = 0.05               # between the two writes of the answer
DROPS = 3
SUMMARY_ID = "6865af7173214451bda6f168d9555bf0"


def serve():
    """Answers one query on 127.0.0.1:53 over TCP, in two writes."""
    connection = accept_tcp_dns_client()
    answer = framed(txt_answer(read_framed(connection), [MARKER + b"a" * 150, b"b" * 150]))
    cut = answer.index(MARKER) + len(MARKER) + 20
    connection.sendall(answer[:cut])
    time.sleep(GAP_SECONDS)
    connection.sendall(answer[cut:])
    connection.recv(1)  # until dig closes
    connection.close()


def missing_netfilter_matches(*names):
    """Which of these iptables matches the kernel lacks, after trying to load
    their modules: the only reason to skip. Any other failure to add the
    rules is the test's own failure."""
    for name in names:
        subprocess.run(["modprobe", "-q", f"xt_{name}"], capture_output=True)
    try:
        with open("/proc/net/ip_tables_matches") as matches:
            present = set(matches.read().split())
    except FileNotFoundError:
        present = set()  # no iptables in this kernel at all
    return [name for name in names if name not in present]


def dropped_packets(netns):
    rules = netns.run("iptables", "-L", "INPUT", "-v", "-x", "-n").stdout
    return sum(int(line.split()[0]) for line in rules.splitlines() if "STRING match" in line)


def main():
    require_root_and_tools("ip", "iptables", "dig")
    tap = Tap()
    work = workdir()
    netns = NetworkNamespace(NETNS)
    server = None
    daemon = None
    try:
        # Loss recovery by the RTO alone: no RACK, no tail loss probe.
        netns.run("sysctl", "-q", "-w", "net.ipv4.tcp_recovery=0", "net.ipv4.tcp_early_retrans=0", check=True)
        # Dropped on the way in: a drop on the way out would fail the
        # server's send, and TCP would resend the segment at once, in order.
        # Three rules, each dropping the first marked packet that reaches it:
        # the segment, its fast retransmission and its first RTO
        # retransmission. The second RTO (backed off to 400 ms) brings it, at
        # least 600 ms after the segment behind it, which waits all along.
        missing = missing_netfilter_matches("string", "statistic")
        if missing:
            skip(f"this kernel's netfilter has no {' or '.join(missing)} match (xt_{missing[0]})")
        for _ in range(DROPS):
            rule = netns.run("iptables", "-A", "INPUT", "-p", "tcp", "--sport", "53", "-m", "string", "--string",
                             MARKER.decode(), "--algo", "bm", "-m", "statistic", "--mode", "nth", "--every",
                             "1000000", "--packet", "0", "-j", "DROP")
            if rule.returncode != 0:
                raise RuntimeError(f"iptables refused the drop rule: {rule.stderr.strip()}")
        server = subprocess.Popen(netns.command(sys.executable, __file__, "--serve"),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        tap.equal(server.stdout.readline().strip(), "ready", "the test server listens")
        daemon = Dnsvisd(work, "")
        dig = netns.run("dig", "+tcp", "+tries=1", "+time=5", "@127.0.0.1", NAME, "TXT")
        tap.check(MARKER.decode() in dig.stdout and "b" * 150 in dig.stdout, "dig got the whole answer over TCP",
                  dig.stdout + dig.stderr)
        tap.equal(dropped_packets(netns), DROPS, "the network lost the answer's first segment, and twice its retransmission")
        query_time = re.search(r"Query time: (\d+) msec", dig.stdout)
        dig_msec = int(query_time.group(1)) if query_time else -1
        tap.check(dig_msec >= 600, "the gap filled after two RTOs (dig's query time, ms)", dig_msec)

        found = daemon.wait_for(by_name(NAME, DNS_PROTOCOL="tcp"))
        tap.equal(len(found), 1, "one transaction", found)
        entry = found[0] if found else {}
        tap.check(entry.get("DNS_OUTCOME") == "answered" and entry.get("DNS_ANSWER_COUNT") == "2" and
                  "DNS_PARSE_ERROR" not in entry, "the whole answer is reported: two TXT records", entry)
        latency_msec = int(entry.get("DNS_LATENCY_USEC", "-1000")) / 1000
        # Timed from the segment behind the gap, it would be about GAP_SECONDS.
        tap.check(0.9 * dig_msec - 2 <= latency_msec <= dig_msec + 20,
                  "the latency runs to the retransmission, as dig saw it (dnsvis ms, dig ms)",
                  (latency_msec, dig_msec))
    finally:
        exit_code = daemon.stop() if daemon else None
        if server:
            server.kill()
            server.wait(10)
        netns.delete()
    tap.equal(exit_code, 0, "dnsvisd exits 0 on SIGTERM")
    summaries = [e for e in daemon.entries() if e.get("MESSAGE_ID") == SUMMARY_ID]
    tap.check(summaries and summaries[-1].get("DNSVIS_LOST_TCP") == "0" and summaries[-1].get("DNSVIS_LOST") == "0",
              "nothing was counted lost: the gap filled", summaries[-1] if summaries else None)
    tap.finish()


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve()
    else:
        main()
