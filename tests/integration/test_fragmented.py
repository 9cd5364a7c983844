#!/usr/bin/env python3
"""A UDP response larger than the MTU is fragmented on the wire; dnsvis must
still see it whole (egress before fragmentation, ingress after reassembly).
Runs in a network namespace of its own whose loopback has a 1280-byte MTU."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from dnsvis_testlib import Dnsvisd, NetworkNamespace, Tap, by_name, require_root_and_tools, workdir

NETNS = "dnsvis-test-frag"


def reassembled_datagrams(netns):
    lines = netns.run("cat", "/proc/net/snmp").stdout.splitlines()
    names, values = [l.split() for l in lines if l.startswith("Ip:")][:2]
    return int(values[names.index("ReasmOKs")])


def main():
    require_root_and_tools("ip", "dnsmasq", "dig")
    tap = Tap()
    work = workdir()
    netns = NetworkNamespace(NETNS)
    server = None
    daemon = None
    try:
        netns.run("ip", "link", "set", "lo", "mtu", "1280", check=True)
        strings = ",".join(c * 250 for c in "abcdef")  # ~1.5 KB of TXT: more than one 1280-byte packet
        server = subprocess.Popen(netns.command("dnsmasq", "--keep-in-foreground", "--no-resolv",
                                                "--no-hosts", "--listen-address=127.0.0.1", "--bind-interfaces",
                                                "--port=53", "--edns-packet-max=4096",
                                                f"--txt-record=long.frag.test,{strings}", "--user=root",
                                                "--pid-file="),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        daemon = Dnsvisd(work, "")
        before = reassembled_datagrams(netns)
        dig = netns.run("dig", "+bufsize=4096", "+ignore", "+tries=3", "+time=1", "@127.0.0.1", "long.frag.test", "TXT")
        tap.check("MSG SIZE  rcvd: 15" in dig.stdout, "dig got the ~1.5 KB answer over UDP", dig.stdout)
        tap.check(reassembled_datagrams(netns) > before, "the answer was fragmented and reassembled on the wire")
        found = daemon.wait_for(by_name("long.frag.test"))
        tap.check(len(found) == 1 and found[0].get("DNS_PROTOCOL") == "udp" and
                  found[0].get("DNS_ANSWERS", "").count('"') == 12 and "DNS_PARSE_ERROR" not in found[0],
                  "dnsvis reports the whole answer: six strings, nothing cut", found)
    finally:
        if daemon:
            daemon.stop()
        if server:
            server.terminate()
            server.wait(10)
        netns.delete()
    tap.finish()


if __name__ == "__main__":
    main()
