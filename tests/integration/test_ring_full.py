#!/usr/bin/env python3
"""The ring buffer runs full, as it would behind a burst that dnsvisd cannot
keep up with, and data is really lost: here dnsvisd is stopped (SIGSTOP)
while a burst of queries fills its ring, and one segment of a DNS-over-TCP
answer arrives while nothing fits.

Nothing may be lost silently: every query of the burst is reported or
counted lost. The TCP connection must survive the lost segment: the answer
behind it is reported once the gap is given up, timed by its own arrival,
and the answer the loss cut short is reported from what arrived of it,
named as such, with the one lost segment counted.

The TCP exchange runs in a network namespace of its own: a server that
writes its answers when told to (this script, `--serve`) and a client that
asks two questions on one connection (`--ask`)."""
import json
import os
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from dnsvis_testlib import (SILENT_ADDRESS, Dnsvisd, NetworkNamespace, Tap, accept_tcp_dns_client, bpf_map_of, by_name,
                            dns_query, framed, read_framed, require_root_and_tools, txt_answer, workdir)

NETNS = "dnsvis-test-ringfull"
CUT_SHORT = "a.gap.tcp.test"     # its answer's second segment is lost with the ring
BEHIND_GAP = "b.gap.tcp.test"    # its answer comes in the segment after the gap
HELD_SECONDS = 1.5               # from the lost segment to the next one
TIMEOUT_SECONDS = 10
SUMMARY_ID = "6865af7173214451bda6f168d9555bf0"
OTHER_TRAFFIC_SLACK = 50
RINGBUF_FULL = 1                 # DNSVIS_COUNTER_RINGBUF_FULL in bpf/dnsvis_event.h


def serve():
    """Answers two queries on one connection in three writes, each when a
    line comes on stdin: the first answer's beginning, its rest, the second
    answer."""
    connection = accept_tcp_dns_client()
    first = framed(txt_answer(read_framed(connection), [b"a" * 200, b"b" * 200]))
    second = framed(txt_answer(read_framed(connection), [b"c" * 50]))
    # The header, the question and a few bytes of the first record.
    cut = 2 + 12 + len(CUT_SHORT) + 2 + 4 + 20
    for part in (first[:cut], first[cut:], second):
        sys.stdin.readline()
        connection.sendall(part)
        print("sent", flush=True)
    connection.recv(1)  # until the client closes
    connection.close()


def ask():
    """Sends both queries in one write and prints when each answer came."""
    client = socket.create_connection(("127.0.0.1", 53), timeout=30)
    started = time.monotonic()
    client.sendall(framed(dns_query(1, CUT_SHORT)) + framed(dns_query(2, BEHIND_GAP)))
    answers = []
    for _ in range(2):
        answer = read_framed(client)
        answers.append({"id": int.from_bytes(answer[:2], "big"), "bytes": len(answer),
                        "msec": (time.monotonic() - started) * 1000})
    client.close()
    print(json.dumps(answers), flush=True)


class RingOfDaemon:
    """dnsvisd's ring buffer and loss counter, read with bpftool while the
    daemon itself is stopped."""

    def __init__(self, pid):
        self.ring_bytes = bpf_map_of(pid, "dnsvis_events")["max_entries"]
        self.counters_id = bpf_map_of(pid, "dnsvis_counters")["id"]

    def ringbuf_full(self):
        """Records the kernel could not put in the ring, over all CPUs."""
        dump = json.loads(subprocess.run(["bpftool", "-j", "map", "lookup", "id", str(self.counters_id), "key", "hex",
                                          *RINGBUF_FULL.to_bytes(4, "little").hex(" ").split()],
                                         capture_output=True, text=True, check=True).stdout)
        total = 0
        for per_cpu in dump.get("values", []):
            value = per_cpu.get("value")
            if isinstance(value, list):  # bytes in hex, without BTF
                value = int.from_bytes(bytes(int(b, 16) for b in value), "little")
            total += int(value)
        return total


def flood(sender, prefix, count, padding, first_id):
    """`count` queries to a port where nothing listens: each is captured,
    and waits for its timeout."""
    names = []
    for i in range(count):
        name = f"{prefix}{i}.flood.test"
        sender.sendto(dns_query((first_id + i) & 0xffff, name, qtype=1, padding=padding), (SILENT_ADDRESS, 53))
        names.append(name)
    return names


def main():
    require_root_and_tools("ip", "bpftool")
    tap = Tap()
    work = workdir()
    netns = NetworkNamespace(NETNS)
    server = client = daemon = None
    flood_names = []
    stopped = False
    try:
        server = subprocess.Popen(netns.command(sys.executable, __file__, "--serve"), stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        tap.equal(server.stdout.readline().strip(), "ready", "the test server listens")
        # Room for the burst and the held answer before anything times out.
        daemon = Dnsvisd(work, f"[Transactions]\nTimeout={TIMEOUT_SECONDS}s\n")
        client = subprocess.Popen(netns.command(sys.executable, __file__, "--ask"), stdout=subprocess.PIPE, text=True)

        def server_writes():
            server.stdin.write("next\n")
            server.stdin.flush()
            return server.stdout.readline().strip() == "sent"

        server_writes()  # the first answer's beginning, captured
        time.sleep(0.2)
        os.kill(daemon.process.pid, signal.SIGSTOP)
        stopped = True
        ring = RingOfDaemon(daemon.process.pid)
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        # Records of the largest size class until the ring is full for them,
        # then of the smallest until it is full for those too: after that no
        # record fits, however short.
        flood_names += flood(sender, "big", ring.ring_bytes // 3000, 2900, 0)
        before_small = ring.ringbuf_full()
        flood_names += flood(sender, "small", 256, 0, 30000)
        flood_end = time.monotonic()
        before_lost_segment = ring.ringbuf_full()
        tap.check(before_small > 0 and before_lost_segment > before_small,
                  "the burst filled the ring: records of every size were turned away (lost before, after the small ones)",
                  (before_small, before_lost_segment))

        server_writes()  # the rest of the first answer: no room for it
        time.sleep(0.1)
        tap.check(ring.ringbuf_full() > before_lost_segment, "the segment that came while the ring was full was lost")
        os.kill(daemon.process.pid, signal.SIGCONT)
        stopped = False
        time.sleep(HELD_SECONDS)
        server_writes()  # the second answer, after the gap
        answers = json.loads(client.communicate(timeout=30)[0] or "[]")
        tap.check(len(answers) == 2 and answers[0]["id"] == 1 and answers[1]["id"] == 2,
                  "the client got both answers, whole", answers)
        client_msec = answers[1]["msec"] if len(answers) == 2 else -1

        behind = daemon.wait_for(by_name(BEHIND_GAP), timeout=10)
        tap.equal(len(behind), 1, "the answer behind the lost segment is reported once", behind)
        entry = behind[0] if behind else {}
        tap.check(entry.get("DNS_OUTCOME") == "answered" and entry.get("DNS_PROTOCOL") == "tcp" and
                  entry.get("DNS_ANSWER_COUNT") == "1" and "DNS_PARSE_ERROR" not in entry,
                  "the answer behind the gap is whole", entry)
        latency_msec = int(entry.get("DNS_LATENCY_USEC", "-1000000")) / 1000
        # Timed when the gap was given up, it would be a reorder window later.
        tap.check(0.9 * client_msec - 5 <= latency_msec <= client_msec + 20,
                  "its latency is its own arrival's, as the client saw it (dnsvis ms, client ms)",
                  (latency_msec, client_msec))

        cut_short = daemon.wait_for(by_name(CUT_SHORT), timeout=10)
        tap.equal(len(cut_short), 1, "the answer the loss cut short is reported once", cut_short)
        entry = cut_short[0] if cut_short else {}
        tap.check(entry.get("DNS_OUTCOME") == "answered" and entry.get("DNS_RCODE") == "NOERROR" and
                  "a TCP segment was lost" in entry.get("DNS_PARSE_ERROR", ""),
                  "it is an answer, from what arrived of it, and says a segment was lost", entry)
        latency_msec = int(entry.get("DNS_LATENCY_USEC", "-1000000")) / 1000
        tap.check(0 <= latency_msec < 1000 * HELD_SECONDS / 2,
                  "it is timed by its own first segment, not by the segment after the gap (ms)", latency_msec)

        # The burst's queries that were captured time out.
        time.sleep(max(0.0, flood_end + TIMEOUT_SECONDS + 1 - time.monotonic()))
    finally:
        if stopped:
            os.kill(daemon.process.pid, signal.SIGCONT)
        exit_code = daemon.stop() if daemon else None
        for process in (client, server):
            if process:
                process.kill()
                process.wait(10)
        netns.delete()
    tap.equal(exit_code, 0, "dnsvisd lived through it and exits 0 on SIGTERM")
    entries = daemon.entries()
    summaries = [e for e in entries if e.get("MESSAGE_ID") == SUMMARY_ID]
    summary = summaries[-1] if summaries else {}
    reported = [e["DNS_NAME"] for e in entries if e.get("DNS_NAME", "").endswith(".flood.test")]
    tap.equal(len(reported), len(set(reported)), "no query of the burst is reported twice")
    lost = sum(int(summary.get(f"DNSVIS_LOST_{cause}", "0")) for cause in ("RINGBUF", "UNFINISHED"))
    # The rest of the host may have lost a few records of its own while the
    # ring was full; counting anything twice would take far more.
    accounted = len(reported) + lost - (len(flood_names) + 1)
    tap.check(len(reported) < len(flood_names) and 0 <= accounted <= OTHER_TRAFFIC_SLACK,
              "every query of the burst, and the lost segment, is reported or counted lost, once "
              "(reported, lost to the ring or unfinished, sent)",
              (len(reported), lost, len(flood_names)))
    tap.equal(summary.get("DNSVIS_LOST_TCP"), "1", "the one segment lost from the TCP stream is counted", summary)
    tap.finish()


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve()
    elif sys.argv[1:] == ["--ask"]:
        ask()
    else:
        main()
