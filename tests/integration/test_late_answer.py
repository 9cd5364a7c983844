#!/usr/bin/env python3
"""A slow server answers every copy of a retransmitted query. A long-lived
resolver (systemd-resolved, dnsmasq, a daemon's own stub) retries on the
socket it asked from, so both answers reach it: dnsvis must report one
answered transaction, timed from the first copy, and count the second answer
as a late answer, not report it as a response to a query never seen."""
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from dnsvis_testlib import Dnsvisd, Tap, by_name, dns_query, require_root_and_tools, txt_answer, workdir

SLOW_ADDRESS = "127.53.0.7"
NAME = "slow.late.test"
ANSWER_DELAY = 1.5   # seconds, for every copy
RETRY_AFTER = 1.0    # the client's wait before it asks again
SUMMARY_ID = "6865af7173214451bda6f168d9555bf0"


def slow_server(server):
    """Answers each query ANSWER_DELAY after it came, until the socket closes."""
    def answer(query, client):
        time.sleep(ANSWER_DELAY)
        server.sendto(txt_answer(query, [b"slow"]), client)

    while True:
        try:
            query, client = server.recvfrom(4096)
        except OSError:
            return
        threading.Thread(target=answer, args=(query, client), daemon=True).start()


def main():
    require_root_and_tools()
    tap = Tap()
    work = workdir()
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind((SLOW_ADDRESS, 53))
    threading.Thread(target=slow_server, args=(server,), daemon=True).start()
    daemon = Dnsvisd(work, "")
    try:
        client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        client.settimeout(5)
        query = dns_query(4242, NAME)
        client.sendto(query, (SLOW_ADDRESS, 53))
        time.sleep(RETRY_AFTER)
        client.sendto(query, (SLOW_ADDRESS, 53))  # the same query again: same id, same socket
        answers = [client.recv(512), client.recv(512)]
        tap.check(all(a[:2] == query[:2] for a in answers), "the client got an answer to each copy")
        daemon.wait_for(by_name(NAME))
        time.sleep(0.5)  # room for a wrong second entry to show up
        found = [e for e in daemon.entries() if e.get("DNS_NAME") == NAME]
    finally:
        exit_code = daemon.stop()
        server.close()
    tap.equal(len(found), 1, "one entry for the name: no unmatched response for the second answer", found)
    entry = found[0] if found else {}
    tap.check(entry.get("DNS_OUTCOME") == "answered" and entry.get("DNS_RETRANSMITS") == "1",
              "an answered transaction with one retransmission", entry)
    latency_msec = int(entry.get("DNS_LATENCY_USEC", "-1000")) / 1000
    tap.check(ANSWER_DELAY * 1000 - 50 <= latency_msec <= ANSWER_DELAY * 1000 + 300,
              "its latency runs from the first copy to the first answer (ms)", latency_msec)
    tap.equal(exit_code, 0, "dnsvisd exits 0 on SIGTERM")
    summaries = [e for e in daemon.entries() if e.get("MESSAGE_ID") == SUMMARY_ID]
    summary = summaries[-1] if summaries else {}
    tap.check(summary.get("DNSVIS_LATE_ANSWERS") == "1" and summary.get("DNSVIS_LOST") == "0",
              "the second answer is counted as a late answer, nothing lost", summary)
    tap.finish()


if __name__ == "__main__":
    main()
