#!/usr/bin/env python3
"""A zone transfer is one DNS transaction answered by a stream of messages
over TCP, the later ones often without a question (RFC 5936 2.2). Each must
come out as one answered transaction, the messages after the first counted
in DNSVIS_TRANSFER_MESSAGES, none reported as an unmatched response.

First a server of the test's own streams a small zone in five messages,
each in a segment of its own and two without a question, so that every
message is seen and the count is exact. Then dig asks NSD for a large zone,
with AXFR and with IXFR from an older serial (which NSD, keeping no
history, answers with the whole zone): NSD writes the zone in segments of up
to 64 KiB on loopback, whose ends SnapLength= cuts, so there only what was
seen can be counted, and the rest is counted lost (DNSVIS_LOST_TCP)."""
import os
import re
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from dnsvis_testlib import (NSD_ADDRESS, Dnsvisd, Nsd, Tap, framed, read_framed, require_root_and_tools,
                            workdir)

SUMMARY_ID = "6865af7173214451bda6f168d9555bf0"
STREAM_ADDRESS = "127.53.0.12"
STREAM_ZONE = "xfr.test"
TYPE_SOA, TYPE_TXT, TYPE_AXFR, CLASS_IN = 6, 16, 252, 1
# Enough data that NSD needs many messages for its zone.
NSD_RECORDS = 3000
NSD_MORE_RECORDS = "".join(f'bulk{i}  TXT  "{"x" * 180}"\n' for i in range(NSD_RECORDS))


def wire_name(name):
    return b"".join(bytes([len(label)]) + label.encode() for label in name.split(".")) + b"\0"


def record(name, rtype, rdata):
    return wire_name(name) + struct.pack(">HHIH", rtype, CLASS_IN, 300, len(rdata)) + rdata


SOA = record(STREAM_ZONE, TYPE_SOA, wire_name(f"ns1.{STREAM_ZONE}") + wire_name(f"hostmaster.{STREAM_ZONE}")
             + struct.pack(">IIIII", 7, 3600, 900, 604800, 300))


def txt(label):
    return record(f"{label}.{STREAM_ZONE}", TYPE_TXT, bytes([len(label)]) + label.encode())


# The zone's stream: (with the question?, records). It opens and closes
# with the SOA, as RFC 5936 2.2 has it.
STREAM = [(True, [SOA, txt("a")]), (True, [txt("b"), txt("c")]), (False, [txt("d")]), (False, [txt("e")]),
          (True, [txt("f"), SOA])]


def stream_server(listener):
    """Answers one AXFR with STREAM, a message per segment."""
    connection, _ = listener.accept()
    connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    query = read_framed(connection)
    end = 12
    while query[end] != 0:
        end += 1 + query[end]
    question = query[12:end + 5]  # dig's EDNS record after it is left out
    for with_question, records in STREAM:
        header = query[0:2] + struct.pack(">HHHHH", 0x8400, int(with_question), len(records), 0, 0)
        connection.sendall(framed(header + (question if with_question else b"") + b"".join(records)))
        time.sleep(0.05)  # each message in a segment of its own
    connection.close()


def dig_transfer(tap, server, zone, kind):
    """Runs dig for the zone; returns its pid and how many messages it got."""
    dig = subprocess.Popen(["dig", f"@{server}", zone, kind, "+time=10", "+tries=1"], stdout=subprocess.PIPE,
                           text=True)
    output, _ = dig.communicate(timeout=60)
    sizes = re.search(r"XFR size: (\d+) records \(messages (\d+)", output)
    messages = int(sizes.group(2)) if sizes else 0
    tap.check(messages >= len(STREAM), f"dig {zone} {kind}: the zone came in {messages} messages", output[-600:])
    return dig.pid, messages


def check_entry(tap, daemon, pid, qtype, zone, first_answers):
    found = daemon.wait_for(lambda e: e.get("DNS_TYPE") == qtype and e.get("DNS_PID") == str(pid))
    summary = [{k: e.get(k) for k in ("DNS_NAME", "DNS_OUTCOME", "DNS_ID", "DNS_ANSWER_COUNT")} for e in found]
    tap.check(len(found) == 1, f"{zone} {qtype}: one entry for dig's transfer", summary)
    entry = found[0] if found else {}
    shown = {k: v for k, v in entry.items() if k != "DNS_ANSWERS" and k != "MESSAGE"}
    tap.check(entry.get("DNS_OUTCOME") == "answered" and entry.get("DNS_NAME") == zone
              and entry.get("DNS_PROTOCOL") == "tcp" and entry.get("DNS_COMM") == "dig"
              and entry.get("DNS_RCODE") == "NOERROR",
              f"{zone} {qtype}: an answered transaction over TCP, of dig's", shown)
    tap.check(entry.get("DNS_ANSWERS", "").startswith(first_answers),
              f"{zone} {qtype}: with the records of the first message, which opens with the SOA",
              entry.get("DNS_ANSWERS", "")[:200])


def stopped_cleanly(tap, daemon, what):
    """Checks how dnsvisd stopped and that no message of `what` was taken
    for a response to a query never seen; returns its final summary."""
    tap.equal(daemon.stop(), 0, "dnsvisd exits 0 on SIGTERM")
    unmatched = [{k: e.get(k) for k in ("DNS_NAME", "DNS_ID", "DNS_CLIENT")}
                 for e in daemon.entries() if e.get("DNS_OUTCOME") == "unmatched-response"]
    tap.equal(unmatched, [], f"no message {what} is reported as a response to nothing seen")
    summaries = [e for e in daemon.entries() if e.get("MESSAGE_ID") == SUMMARY_ID]
    return summaries[-1] if summaries else {}


def stream_transfer(tap, work):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((STREAM_ADDRESS, 53))
    listener.listen(1)
    server = threading.Thread(target=stream_server, args=(listener,), daemon=True)
    server.start()
    daemon = Dnsvisd(work, "")
    try:
        pid, messages = dig_transfer(tap, STREAM_ADDRESS, STREAM_ZONE, "AXFR")
        tap.equal(messages, len(STREAM), "dig got every message of the stream")
        check_entry(tap, daemon, pid, "AXFR", STREAM_ZONE, f"ns1.{STREAM_ZONE} hostmaster.{STREAM_ZONE} 7 ")
        time.sleep(0.3)  # room for a wrong entry to show up
    finally:
        daemon.stop()
        listener.close()
    summary = stopped_cleanly(tap, daemon, "of the stream")
    counted = {k: summary.get(k) for k in ("DNSVIS_TRANSFER_MESSAGES", "DNSVIS_UNMATCHED_RESPONSES", "DNSVIS_LOST")}
    tap.equal(counted, {"DNSVIS_TRANSFER_MESSAGES": str(len(STREAM) - 1), "DNSVIS_UNMATCHED_RESPONSES": "0",
                        "DNSVIS_LOST": "0"},
              "the four messages after the first, two without a question, are counted as transfer messages")


def nsd_transfers(tap, work):
    nsd = Nsd(work, more_records=NSD_MORE_RECORDS)
    daemon = Dnsvisd(work, "[Capture]\nSnapLength=8192\n")
    try:
        for kind in ("AXFR", "IXFR=2026112100"):
            pid, _ = dig_transfer(tap, NSD_ADDRESS, "example.test", kind)
            check_entry(tap, daemon, pid, kind.split("=")[0], "example.test",
                        "ns1.example.test hostmaster.example.test 2026112101 ")
        time.sleep(0.3)
    finally:
        daemon.stop()
        nsd.stop()
    summary = stopped_cleanly(tap, daemon, "NSD sent")
    tap.check(summary.get("DNSVIS_ANSWERED") == "2" and summary.get("DNSVIS_UNMATCHED_RESPONSES") == "0",
              "two transactions answered, none unmatched", summary)


def main():
    require_root_and_tools("nsd", "dig")
    tap = Tap()
    work = workdir()
    stream_transfer(tap, work)
    nsd_transfers(tap, work)
    tap.finish()


if __name__ == "__main__":
    main()
