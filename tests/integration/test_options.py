#!/usr/bin/env python3
"""The configuration options against the real kernel: extra ports, server-side
capture, the ring buffer's size, global visibility off, and a snap length
that cuts responses."""
import os
import shutil
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from dnsvis_testlib import (Dnsvisd, Tap, attached_dnsvis_programs, bpf_map_of, by_name, require_root_and_tools,
                            workdir)

DNSMASQ_ADDRESS = "127.53.0.3"
DNSMASQ_PORT = 5353


def dnsmasq():
    """dnsmasq answering *.opt.test on a non-standard port."""
    return subprocess.Popen(["dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts",
                             f"--listen-address={DNSMASQ_ADDRESS}", "--bind-interfaces", f"--port={DNSMASQ_PORT}",
                             "--address=/opt.test/192.0.2.50", "--txt-record=long.opt.test," + ",".join(c * 250 for c in "wxyz"),
                             "--user=root", "--pid-file="],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def dig(name, qtype="A", *options, port=DNSMASQ_PORT):
    """dig at dnsmasq's address; returns what it printed."""
    return subprocess.run(["dig", "+tries=1", "+time=2", *options, "-p", str(port), f"@{DNSMASQ_ADDRESS}", name, qtype],
                          capture_output=True, text=True, timeout=30).stdout


def summary_of(daemon):
    entries = daemon.entries()
    return entries[-1] if entries and entries[-1].get("MESSAGE_ID") == "6865af7173214451bda6f168d9555bf0" else {}


def main():
    require_root_and_tools("dnsmasq", "dig", "bpftool")
    tap = Tap()
    work = workdir()
    server = dnsmasq()
    daemon = None
    try:
        # Extra port and server side: one exchange, seen from both ends.
        # And a ring buffer size that is not a power of two.
        daemon = Dnsvisd(work, f"[Capture]\nPorts=53 {DNSMASQ_PORT}\nServerSide=yes\nRingBufferSize=200K\n"
                               f"SnapLength=512\n")
        tap.equal(bpf_map_of(daemon.process.pid, "dnsvis_events")["max_entries"], 256 * 1024,
                  "RingBufferSize=200K: the ring buffer has the next power of two, 256 KiB")
        dig("both.opt.test")
        client = daemon.wait_for(by_name("both.opt.test", DNS_SIDE="client"))
        served = daemon.wait_for(by_name("both.opt.test", DNS_SIDE="server"))
        # Over TCP, with an answer longer than SnapLength=: dnsmasq's
        # handshake runs on its listening socket and the exchange on the
        # accepted one, whose cut answer must still complete its query.
        dig("long.opt.test", "TXT", "+tcp")
        long_sides = {side: daemon.wait_for(by_name("long.opt.test", DNS_SIDE=side)) for side in ("client", "server")}
        daemon.stop()
        for side, found in long_sides.items():
            tap.check(len(found) == 1 and found[0].get("DNS_OUTCOME") == "answered" and
                      "capture cut" in found[0].get("DNS_PARSE_ERROR", ""),
                      f"ServerSide=yes over TCP: the {side} side's cut answer completes its query", found)
        tap.check(len(client) == 1 and client[0].get("DNS_COMM") == "dig" and
                  client[0].get("DNS_ANSWERS") == "192.0.2.50", "Ports=: a query to port 5353 is captured", client)
        tap.check(len(served) == 1 and served[0].get("DNS_COMM") == "dnsmasq" and
                  served[0].get("DNS_OUTCOME") == "answered" and
                  served[0].get("DNS_SERVER") == f"{DNSMASQ_ADDRESS}:{DNSMASQ_PORT}",
                  "ServerSide=yes: the server's side is a transaction of dnsmasq", served)
        if client and served:
            tap.equal(served[0].get("DNS_CLIENT"), client[0].get("DNS_CLIENT"),
                      "both sides name the same client endpoint")

        # The default ports do not include 5353, and the server side is off.
        # Port 53 is captured: a query to it, where nothing listens, is
        # reported once it times out (shortened here).
        daemon = Dnsvisd(work, "[Transactions]\nTimeout=1s\n")
        tap.equal(bpf_map_of(daemon.process.pid, "dnsvis_events")["max_entries"], 4 * 1024 * 1024,
                  "by default the ring buffer has 4 MiB")
        answer = dig("default.opt.test")
        dig("port53.opt.test", port=53)
        dig_default = daemon.wait_for(by_name("default.opt.test"), timeout=2)
        dig_53 = daemon.wait_for(by_name("port53.opt.test"), timeout=5)
        # There is nothing to reload: a hangup stops it as SIGTERM does.
        tap.equal(daemon.stop(signal.SIGHUP), 0, "SIGHUP stops dnsvisd with exit status 0")
        tap.check(summary_of(daemon).get("DNSVIS_LOST") is not None, "after SIGHUP the final summary is written",
                  daemon.entries()[-1:])
        tap.equal(attached_dnsvis_programs(), [], "after SIGHUP no dnsvis_* program is left attached")
        tap.check("192.0.2.50" in answer, "dnsmasq answered on port 5353", answer)
        tap.equal(dig_default, [], "by default port 5353 is not captured")
        tap.check(len(dig_53) == 1 and dig_53[0].get("DNS_OUTCOME") == "timeout",
                  "by default port 53 is captured (a query nobody answered, reported as a timeout)", dig_53)

        # Global visibility off: nothing reaches user space, and it is counted.
        daemon = Dnsvisd(work, f"[Capture]\nPorts={DNSMASQ_PORT}\n[Visibility]\nGlobal=no\n")
        dig("hidden.opt.test")
        hidden = daemon.wait_for(by_name("hidden.opt.test"), timeout=2)
        daemon.stop()
        summary = summary_of(daemon)
        tap.equal(hidden, [], "Global=no: the query is not reported")
        tap.check(summary.get("DNSVIS_CAPTURED") == "0" and int(summary.get("DNSVIS_FILTERED", "0")) >= 2,
                  "Global=no: nothing captured, the skipped packets counted as filtered", summary)

        # A snap length shorter than the response: reported, with the cut named.
        daemon = Dnsvisd(work, f"[Capture]\nPorts={DNSMASQ_PORT}\nSnapLength=512\n")
        dig("long.opt.test", "TXT")
        dig("long.opt.test", "TXT", "+tcp")
        cut = daemon.wait_for(by_name("long.opt.test", DNS_PROTOCOL="udp"))
        # Over TCP the answer is one segment on loopback, cut like the datagram.
        cut_tcp = daemon.wait_for(by_name("long.opt.test", DNS_PROTOCOL="tcp"))
        daemon.stop()
        summary = summary_of(daemon)
        tap.check(len(cut) == 1 and cut[0].get("DNS_OUTCOME") == "answered" and
                  cut[0].get("DNS_RCODE") == "NOERROR", "SnapLength=: a cut response still completes its transaction",
                  cut)
        tap.check(cut and "capture cut at 512 bytes" in cut[0].get("DNS_PARSE_ERROR", ""),
                  "SnapLength=: the entry says the capture was cut", cut)
        tap.check(int(summary.get("DNSVIS_CUT", "0")) >= 2, "SnapLength=: the cuts are counted", summary)
        tap.check(len(cut_tcp) == 1 and cut_tcp[0].get("DNS_OUTCOME") == "answered" and
                  cut_tcp[0].get("DNS_RCODE") == "NOERROR" and
                  "capture cut at 510 bytes" in cut_tcp[0].get("DNS_PARSE_ERROR", ""),
                  "SnapLength=: a response over TCP cut the same way completes its transaction too", cut_tcp)
        tap.check(summary.get("DNSVIS_LOST_TCP") == "0",
                  "SnapLength=: cutting the end of a TCP message that is reported loses nothing", summary)
    finally:
        if daemon:
            daemon.stop()
        server.terminate()
        server.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    tap.finish()


if __name__ == "__main__":
    main()
