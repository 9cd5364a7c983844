#!/usr/bin/env python3
"""Writes the seed corpus of the TCP reassembly fuzz target: scripts of
segments (the format is in fuzz_tcp_reassembly.cpp) that walk through what
the reassembler meets, from which the fuzzer mutates its way to the rest.

    tests/fuzz/make_tcp_corpus.py [output-dir]

The output directory defaults to tests/fuzz/corpus/tcp-reassembly next to
this script. The output is the same on every run."""
import pathlib
import struct
import sys

SYN, FIN, RST, EXPIRE = 4, 8, 16, 32


def step(flow, offset, payload, flags=0, uncaptured=0, ticks=1):
    """One segment: `ticks` of 16 ms after the last, `uncaptured` bytes of
    it on the wire but not captured."""
    return struct.pack(">BHHBBB", flow | flags, offset, len(payload), uncaptured, ticks, 0) + payload


def message(size, tag):
    """A framed DNS-looking message: id `tag`, QR set, then filler."""
    body = struct.pack(">HHHHHH", tag, 0x8180, 1, 1, 0, 0) + bytes((tag + i) & 0xff for i in range(size - 12))
    return struct.pack(">H", len(body)) + body


def stream(*messages):
    return b"".join(messages)


def seeds():
    a, b, c = message(40, 1), message(300, 2), message(25, 3)
    ab = stream(a, b)
    big = message(2800, 4)
    yield "in-order", step(0, 0, b"", SYN, ticks=0) + step(0, 0, ab) + step(0, len(ab), c) + \
        step(0, len(ab) + len(c), b"", FIN)
    yield "split-message", step(1, 0, ab[:50]) + step(1, 50, ab[50:51]) + step(1, 51, ab[51:])
    yield "reordered", step(0, len(a), b) + step(0, 0, a)
    yield "gap-filled-late", step(0, 0, ab[:100]) + step(0, 200, ab[200:], ticks=10) + \
        step(0, 100, ab[100:200], ticks=40)
    yield "gap-given-up", step(0, 0, ab[:100]) + step(0, 200, stream(ab[200:], c), EXPIRE, ticks=1) + \
        step(2, 0, a, EXPIRE, ticks=70)
    yield "cut", step(0, 0, ab[:100], uncaptured=len(ab) - 100) + step(0, len(ab), c)
    yield "fin-inside-message", step(3, 0, ab[:120], FIN)
    yield "rst-inside-message", step(3, 0, ab[:120]) + step(3, 120, b"", RST)
    yield "retransmissions", step(1, 0, ab) + step(1, 0, ab) + step(1, 10, ab[10:80]) + step(1, len(ab), c)
    yield "new-connection", step(2, 0, ab[:90]) + step(2, 0x4000, b"", SYN) + step(2, 0x4000, c)
    yield "budgets", b"".join(step(f, 0, big[:2000]) for f in range(4)) + step(0, 2000, big[2000:]) + \
        b"".join(step(0, 2200 + 10 * i, big[:10], ticks=0) for i in range(12))
    yield "idle", step(0, 0, ab[:70]) + step(1, 0, a, EXPIRE, ticks=255) + step(1, 42, a, EXPIRE, ticks=255)


def main():
    out = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else \
        pathlib.Path(__file__).resolve().parent / "corpus" / "tcp-reassembly"
    out.mkdir(parents=True, exist_ok=True)
    for name, data in seeds():
        (out / f"{name}.bin").write_bytes(data)
        print(f"{name}.bin: {len(data)} bytes")


if __name__ == "__main__":
    main()
