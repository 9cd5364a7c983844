#!/usr/bin/env python3
"""A backlog older than Timeout= is read as what it was, not as what the
clock says now: dnsvisd is stopped (SIGSTOP) while a burst of queries and,
after all of them, their answers wait in its ring, for longer than
Timeout=. One drain takes at most 16384 records, so the first drains after
SIGCONT hold queries whose answers are still queued: none of them may be
reported as a timeout (nor its answer, later, as unmatched)."""
import os
import signal
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from dnsvis_testlib import Dnsvisd, Tap, dns_query, patience, require_root_and_tools, workdir

SERVER_ADDRESS = "127.53.0.6"
NAME = "burst.backlog.test"
# More queries than one drain's records (16384), so that the answers start
# beyond the first drains.
QUERIES = 20000
SUMMARY_ID = "6865af7173214451bda6f168d9555bf0"
SO_RCVBUFFORCE = 33  # <asm-generic/socket.h>; Python does not name it. Root may pass rmem_max.


def a_answer(query):
    """An authoritative answer with one A record for `query`'s question."""
    end = 12
    while query[end] != 0:
        end += 1 + query[end]
    question = query[12:end + 5]
    record = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + bytes([192, 0, 2, 66])
    return query[0:2] + struct.pack(">HHHHH", 0x8500, 1, 1, 0, 0) + question + record


def answer_after_all(server, ready):
    """Takes every query of the burst first, then answers them all: the
    ring holds the queries, then the answers."""
    queries = []
    while len(queries) < QUERIES:
        try:
            queries.append(server.recvfrom(512))
        except socket.timeout:
            break
    for query, client in queries:
        server.sendto(a_answer(query), client)
    ready.append(len(queries))


def main():
    require_root_and_tools()
    tap = Tap()
    work = workdir()
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 16 * 1024 * 1024)
    server.bind((SERVER_ADDRESS, 53))
    server.settimeout(patience(10))
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 16 * 1024 * 1024)
    client.connect((SERVER_ADDRESS, 53))
    # Timeout= well above how long the burst takes to send (its answers come
    # only after the last query), however loaded the machine.
    daemon = Dnsvisd(work, "[Capture]\nRingBufferSize=64M\n[Transactions]\nTimeout=3s\nMaxPending=65536\n")
    try:
        os.kill(daemon.process.pid, signal.SIGSTOP)
        answered = []
        serving = threading.Thread(target=answer_after_all, args=(server, answered))
        serving.start()
        for query_id in range(QUERIES):
            client.send(dns_query(query_id, NAME, qtype=1))
        serving.join()
        tap.equal(answered, [QUERIES], "the test's server took every query, then answered each")
        client.settimeout(patience(5))
        received = 0
        try:
            while received < QUERIES:
                client.recv(512)
                received += 1
        except socket.timeout:
            pass
        tap.equal(received, QUERIES, "the client got every answer")
        time.sleep(3.5)  # the backlog is now older than Timeout=3s
        os.kill(daemon.process.pid, signal.SIGCONT)

        deadline = time.monotonic() + patience(30)
        outcomes = {}
        while time.monotonic() < deadline:
            outcomes = {}
            for entry in daemon.entries():
                if entry.get("DNS_NAME") == NAME:
                    outcome = entry.get("DNS_OUTCOME")
                    outcomes[outcome] = outcomes.get(outcome, 0) + 1
            if sum(outcomes.values()) >= QUERIES:
                break
            time.sleep(0.5)
        tap.equal(outcomes, {"answered": QUERIES},
                  f"all {QUERIES} transactions are reported answered: no query read before its queued answer "
                  "timed out")
        tap.equal(daemon.stop(), 0, "dnsvisd exits 0 on SIGTERM")
        entries = daemon.entries()
        summary = entries[-1] if entries and entries[-1].get("MESSAGE_ID") == SUMMARY_ID else {}
        tap.equal(summary.get("DNSVIS_LOST_RINGBUF"), "0", "the ring held the whole burst",
                  {k: v for k, v in summary.items() if k.startswith("DNSVIS_")})
    finally:
        try:
            os.kill(daemon.process.pid, signal.SIGCONT)
        except ProcessLookupError:
            pass
        daemon.stop()
        server.close()
        client.close()
    tap.finish()


if __name__ == "__main__":
    main()
