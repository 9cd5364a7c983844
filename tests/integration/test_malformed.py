#!/usr/bin/env python3
"""Hostile DNS through the real kernel path: a server of the test's own
answers with broken messages (a pointer to itself, a forward pointer, a
name over 255 bytes, a record cut short), and clients send messages too
short to be DNS (empty, five bytes, an empty TCP message). Each broken
answer is still reported, matched to its query, with DNS_PARSE_ERROR saying
what is wrong; each message too short to parse is counted as
DNSVIS_LOST_MALFORMED; nothing else is lost, and dnsvisd keeps running.
A client whose process name is not UTF-8 still gets a line strict JSON
parsers take."""
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(__file__))
from dnsvis_testlib import Dnsvisd, Tap, by_name, dns_query, framed, read_framed, require_root_and_tools, workdir

SERVER_ADDRESS = "127.53.0.5"
SUMMARY_ID = "6865af7173214451bda6f168d9555bf0"


def question_end(query):
    end = 12
    while query[end] != 0:
        end += 1 + query[end]
    return end + 5  # the root label, type and class


def broken_answer(query):
    """The answer the first label of the question asks for: each breaks one
    rule of the wire format in its answer section."""
    end = question_end(query)
    header = query[0:2] + struct.pack(">HHHHH", 0x8400, 1, 1, 0, 0)
    question = query[12:end]
    record_at = len(header) + len(question)
    a_record_tail = struct.pack(">HHIH", 1, 1, 60, 4) + bytes([192, 0, 2, 99])
    kind = query[13:13 + query[12]].decode()
    if kind == "loop":  # the owner name points at itself
        records = struct.pack(">H", 0xc000 | record_at) + a_record_tail
    elif kind == "forward":  # the owner name points past itself
        records = struct.pack(">H", 0xc000 | (record_at + 2)) + a_record_tail
    elif kind == "longname":  # a CNAME target of 5 x 63-byte labels: 321 bytes
        target = b"".join(b"\x3f" + b"a" * 63 for _ in range(5)) + b"\0"
        records = b"\xc0\x0c" + struct.pack(">HHIH", 5, 1, 60, len(target)) + target
    elif kind == "truncated":  # two answers announced, one sent
        header = query[0:2] + struct.pack(">HHHHH", 0x8400, 1, 2, 0, 0)
        records = b"\xc0\x0c" + a_record_tail
    else:  # "good": nothing wrong
        records = b"\xc0\x0c" + a_record_tail
    return header + question + records


def serve_udp(server):
    while True:
        try:
            data, peer = server.recvfrom(4096)
        except OSError:
            return  # closed: the test is over
        if len(data) >= 12:
            server.sendto(broken_answer(data), peer)


def serve_tcp(listener):
    """Reads an empty message and a query from the client, answers the query."""
    try:
        connection, _ = listener.accept()
    except OSError:
        return
    with connection:
        read_framed(connection)  # the empty one
        connection.sendall(framed(broken_answer(read_framed(connection))))


def ask_udp(name, query_id):
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.settimeout(3)
    client.sendto(dns_query(query_id, name, qtype=1), (SERVER_ADDRESS, 53))
    try:
        return client.recv(4096)
    except socket.timeout:
        return b""
    finally:
        client.close()


def main():
    require_root_and_tools()
    tap = Tap()
    work = workdir()
    udp_server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp_server.bind((SERVER_ADDRESS, 53))
    tcp_listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp_listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp_listener.bind((SERVER_ADDRESS, 53))
    tcp_listener.listen(1)
    threading.Thread(target=serve_udp, args=(udp_server,), daemon=True).start()
    threading.Thread(target=serve_tcp, args=(tcp_listener,), daemon=True).start()
    daemon = Dnsvisd(work, "")
    try:
        expected_errors = {"loop": "bad-pointer", "forward": "bad-pointer", "longname": "name-too-long",
                           "truncated": "truncated"}
        for number, (kind, error) in enumerate(expected_errors.items()):
            name = f"{kind}.bad.test"
            answer = ask_udp(name, 0x4100 + number)
            tap.check(len(answer) > 12, f"{kind}: the test's server answered", answer)
            found = daemon.wait_for(by_name(name))
            tap.equal(len(found), 1, f"{kind}: the broken answer makes one transaction", found)
            if found:
                e = found[0]
                tap.check(e.get("DNS_OUTCOME") == "answered" and e.get("DNS_RCODE") == "NOERROR" and
                          e.get("DNS_ID") == str(0x4100 + number),
                          f"{kind}: matched to its query, answered", e)
                tap.equal(e.get("DNS_PARSE_ERROR"), error, f"{kind}: DNS_PARSE_ERROR says what is wrong", e)

        # Too short to be DNS: no transaction can come of them, so they are
        # counted. An empty datagram is one too.
        client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        client.sendto(b"", (SERVER_ADDRESS, 53))
        client.sendto(b"\x12\x34\x01\x00\x00", (SERVER_ADDRESS, 53))
        client.close()

        # Over TCP, an empty message (length prefix 0) and then a good query
        # on the same connection: the query is reported as usual.
        with socket.create_connection((SERVER_ADDRESS, 53), timeout=5) as connection:
            connection.sendall(framed(b"") + framed(dns_query(0x4200, "good.bad.test", qtype=1)))
            answer = read_framed(connection)
        tap.check(len(answer) > 12, "TCP: the test's server answered the query after the empty message")
        found = daemon.wait_for(by_name("good.bad.test", DNS_PROTOCOL="tcp"))
        tap.check(len(found) == 1 and found[0].get("DNS_OUTCOME") == "answered" and
                  "DNS_PARSE_ERROR" not in found[0],
                  "TCP: the query after an empty message is reported, whole", found)

        # A process may name itself with any bytes but NUL.
        client = ("import ctypes, socket, sys\n"
                  "ctypes.CDLL(None).prctl(15, b'\\xff\\x1b[8mclient', 0, 0, 0)  # PR_SET_NAME\n"
                  "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                  "s.settimeout(3)\n"
                  f"s.sendto(bytes.fromhex('{dns_query(0x4300, 'hostile-comm.bad.test', qtype=1).hex()}'),"
                  f" ('{SERVER_ADDRESS}', 53))\n"
                  "s.recv(4096)\n")
        tap.equal(subprocess.run([sys.executable, "-c", client], timeout=30).returncode, 0,
                  "a client named with the bytes ff 1b '[8mclient' got its answer")
        found = daemon.wait_for(by_name("hostile-comm.bad.test"))
        tap.equal([e.get("DNS_COMM") for e in found], ["\\xff\x1b[8mclient"],
                  "its line is strict UTF-8 JSON: the byte that is not UTF-8 as the text \\xff, ESC escaped")
        with open(daemon.output_path, "rb") as output:
            raw = [line for line in output if b"hostile-comm.bad.test" in line]
        tap.check(len(raw) == 1 and b"\\\\xff" in raw[0] and b"\\u001b" in raw[0] and
                  json.loads(raw[0].decode("utf-8", errors="strict")).get("DNS_NAME") == "hostile-comm.bad.test",
                  "the written line holds \\\\xff and \\u001b, never the raw bytes", raw)

        tap.check(daemon.process.poll() is None, "dnsvisd keeps running through all of it", daemon.stderr()[-2000:])
        tap.equal(daemon.stop(), 0, "dnsvisd exits 0 on SIGTERM")
        entries = daemon.entries()
        summary = entries[-1] if entries and entries[-1].get("MESSAGE_ID") == SUMMARY_ID else {}
        counters = {k: v for k, v in summary.items() if k.startswith("DNSVIS_")}
        # The empty datagram, the five bytes and the empty TCP message.
        tap.equal(summary.get("DNSVIS_LOST_MALFORMED"), "3", "the three messages too short for DNS are counted",
                  counters)
        tap.equal(summary.get("DNSVIS_LOST"), "3", "nothing else is lost", counters)
        tap.equal(summary.get("DNSVIS_PARSE_ERRORS"), "4", "the four broken answers are counted as parse errors",
                  counters)
    finally:
        daemon.stop()
        udp_server.close()
        tcp_listener.close()
        shutil.rmtree(work, ignore_errors=True)
    tap.finish()


if __name__ == "__main__":
    main()
