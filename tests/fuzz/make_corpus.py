#!/usr/bin/env python3
"""Regenerates the seed corpus of the DNS parser fuzz target.

Real packets: an NSD instance serves a small zone on a loopback address, dig
queries it through a small UDP proxy, and the proxy writes the query and the
response payloads that pass through it. Hostile packets are then derived by
hand from those real ones (pointer loops, forward pointers, reserved label
types, cut messages).

Needs nsd and dig (Debian: nsd, bind9-dnsutils). Run it from anywhere:

    tests/fuzz/make_corpus.py [output-dir]

The output directory defaults to tests/fuzz/corpus/dns-parser next to this
script; files it does not produce are left alone. Message ids, EDNS cookies
and the like vary between runs, so regenerated files differ in a few bytes.
"""

import os
import pathlib
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

SERVER = ("127.53.9.1", 5399)  # NSD
PROXY = ("127.53.9.2", 5399)  # where dig sends, and the proxy records

LONG_TXT = 'long IN TXT "{}" "{}" "{}"'.format("a" * 255, "b" * 255, "c" * 100)

ZONE = r"""$ORIGIN example.test.
$TTL 300
@       IN SOA ns1 hostmaster 2024010101 3600 900 604800 300
@       IN NS ns1
@       IN NS ns2.other.test.
@       IN MX 10 mail
@       IN MX 20 mail.other.test.
ns1     IN A 127.53.9.1
ns1     IN AAAA 2001:db8::53
www     IN A 192.0.2.10
www     IN A 192.0.2.11
www     IN AAAA 2001:db8:0:1::10
www     IN AAAA ::ffff:192.0.2.10
mail    IN A 192.0.2.25
alias   IN CNAME alias2
alias2  IN CNAME alias3
alias3  IN CNAME www
txt     IN TXT "v=spf1 -all"
multi   IN TXT "first string" "second \"quoted\" string" "tab\009and\\backslash" ""
_sip._tcp IN SRV 10 60 5060 sip
_sip._tcp IN SRV 20 0 5061 sip2.other.test.
svc     IN HTTPS 1 . alpn=h2,h3 port=8443 ipv4hint=192.0.2.1,192.0.2.2 ech=AEX+DQBBAQAgACDH0hmi8dXu6k9KuWJ4EIJRdkUV9cY7aPDUoR6IEU7bTgAEAAEAAQASY2xvdWRmbGFyZS1lY2guY29tAAA= ipv6hint=2001:db8::1
aliasmode IN HTTPS 0 www
svcb    IN SVCB 1 svc-target mandatory=alpn,port alpn=h2 port=853 no-default-alpn key65000="hello"
_dns    IN SVCB 1 ns1 alpn=dot,doh dohpath=/dns-query{?dns}
caa     IN CAA 0 issue "letsencrypt.org"
caa     IN CAA 128 iodef "mailto:security@example.test"
unknown IN TYPE65534 \# 4 0a000001
loc     IN LOC 52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m
sshfp   IN SSHFP 4 2 123456789abcdef67890123456789abcdef67890123456789abcdef123456789
naptr   IN NAPTR 100 10 "S" "SIP+D2U" "" _sip._udp
dname   IN DNAME other.test.
hinfo   IN HINFO "x86_64" "Linux"
odd\.dot IN A 192.0.2.99
sp\032ace IN A 192.0.2.98
bin\200\255 IN A 192.0.2.97
""" + LONG_TXT + "\n"

REVERSE_ZONE = r"""$ORIGIN 2.0.192.in-addr.arpa.
$TTL 300
@       IN SOA ns1.example.test. hostmaster.example.test. 1 3600 900 604800 300
@       IN NS ns1.example.test.
10      IN PTR www.example.test.
25      IN PTR mail.example.test.
"""

NSD_CONF = """server:
    ip-address: {addr}@{port}
    port: {port}
    username: ""
    zonesdir: "{dir}"
    database: ""
    zonelistfile: "{dir}/zone.list"
    xfrdfile: "{dir}/xfrd.state"
    xfrdir: "{dir}"
    pidfile: "{dir}/nsd.pid"
    logfile: "{dir}/nsd.log"
    server-count: 1
    verbosity: 1
    hide-version: no
    identity: "dnsvis-corpus"
remote-control:
    control-enable: no
zone:
    name: example.test
    zonefile: example.test.zone
zone:
    name: 2.0.192.in-addr.arpa
    zonefile: reverse.zone
"""

# (file stem, dig arguments, keep the query too). Every response is kept;
# queries mostly look alike, so only those with something of their own are.
QUERIES = [
    ("a", ["www.example.test", "A"], True),
    ("aaaa-mapped", ["www.example.test", "AAAA"], False),
    ("cname-chain", ["alias.example.test", "A"], False),
    ("ns-glue", ["example.test", "NS"], False),
    ("ptr", ["-x", "192.0.2.10"], False),
    ("mx", ["example.test", "MX"], False),
    ("txt-multiple-escaped", ["multi.example.test", "TXT"], False),
    ("txt-long", ["long.example.test", "TXT"], False),
    ("srv", ["_sip._tcp.example.test", "SRV"], False),
    ("https-alpn-ech-hints", ["svc.example.test", "HTTPS"], False),
    ("https-aliasmode", ["aliasmode.example.test", "HTTPS"], False),
    ("svcb-mandatory-key65000", ["svcb.example.test", "SVCB"], False),
    ("svcb-dohpath", ["_dns.example.test", "SVCB"], False),
    ("caa", ["caa.example.test", "CAA"], False),
    ("unknown-type65534", ["unknown.example.test", "TYPE65534"], False),
    ("naptr", ["naptr.example.test", "NAPTR"], False),
    ("dname", ["x.dname.example.test", "A"], False),
    ("hinfo", ["hinfo.example.test", "HINFO"], False),
    ("nxdomain", ["nonexistent.example.test", "A"], False),
    ("nodata", ["www.example.test", "TXT"], False),
    ("refused-out-of-zone", ["www.elsewhere.test", "A"], False),
    ("mixed-case", ["WwW.ExAmPlE.TeSt", "A"], True),
    ("escaped-dot-label", [r"odd\.dot.example.test", "A"], False),
    ("escaped-binary-label", [r"bin\200\255.example.test", "A"], True),
    ("dnssec-ok", ["+dnssec", "www.example.test", "A"], True),
    ("noedns", ["+noedns", "www.example.test", "A"], True),
    ("cookie", ["+cookie", "www.example.test", "A"], True),
    ("badvers-edns1", ["+edns=1", "+noednsneg", "www.example.test", "A"], True),
    ("tc-bufsize512", ["+bufsize=512", "+ignore", "long.example.test", "TXT"], False),
    ("chaos-version", ["version.server", "CH", "TXT"], True),
    ("any", ["example.test", "ANY"], False),
]


class RecordingProxy(threading.Thread):
    """Forwards each datagram to NSD and keeps (query, response) pairs."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(PROXY)
        self.sock.settimeout(0.2)
        self.exchanges = []
        self.lock = threading.Lock()
        self.stopping = False

    def run(self):
        while not self.stopping:
            try:
                query, client = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            upstream = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            upstream.settimeout(2)
            upstream.sendto(query, SERVER)
            try:
                response, _ = upstream.recvfrom(65535)
            except socket.timeout:
                response = None
            upstream.close()
            with self.lock:
                self.exchanges.append((query, response))
            if response is not None:
                self.sock.sendto(response, client)

    def take(self):
        with self.lock:
            taken, self.exchanges = self.exchanges, []
        return taken


def wait_for_server():
    probe = bytes.fromhex("000001000001000000000000") + b"\x07example\x04test\x00\x00\x06\x00\x01"
    for _ in range(100):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(0.1)
        try:
            s.sendto(probe, SERVER)
            s.recvfrom(65535)
            return
        except OSError:
            time.sleep(0.05)
        finally:
            s.close()
    raise SystemExit("nsd did not answer; see its log")


def u16(b, offset):
    return struct.unpack_from("!H", b, offset)[0]


def skip_name(b, offset):
    while True:
        length = b[offset]
        if length & 0xC0 == 0xC0:
            return offset + 2
        if length == 0:
            return offset + 1
        offset += 1 + length


def first_answer_rdlength_offset(msg):
    """Offset of the rdlength field of the first answer (one question)."""
    offset = skip_name(msg, 12) + 4
    return skip_name(msg, offset) + 8


def rdata_offset(msg, record):
    """Offset of the rdata of record number `record`, counted across sections (one question)."""
    offset = skip_name(msg, 12) + 4
    for _ in range(record):
        offset = skip_name(msg, offset) + 8
        offset += 2 + struct.unpack_from("!H", msg, offset)[0]
    return skip_name(msg, offset) + 10


def header(qd, an=0, ns=0, ar=0, flags=0x0100, ident=0x4242):
    return struct.pack("!HHHHHH", ident, flags, qd, an, ns, ar)


def hostile(real):
    """Hand-made hostile packets, some derived from real responses."""
    a = real["response-a"]
    q_type_class = b"\x00\x01\x00\x01"
    out = {}
    out["hostile-empty"] = b""
    out["hostile-header-11-bytes"] = a[:11]
    out["hostile-pointer-self"] = header(1) + b"\xc0\x0c" + q_type_class
    out["hostile-pointer-forward"] = header(1) + b"\xc0\x12" + q_type_class + b"\x01a\x00"
    out["hostile-pointer-into-own-name"] = header(1) + b"\x01a\x01b\xc0\x0e" + q_type_class
    # Two names pointing at each other: 12 -> 18 and 18 -> 12.
    out["hostile-pointer-mutual"] = header(2) + b"\xc0\x12" + q_type_class + b"\xc0\x0c" + q_type_class
    # A valid backward jump into opaque rdata whose name points forward again.
    owner2 = 12 + 1 + 10 + 4
    out["hostile-pointer-loop-via-rdata"] = (
        header(0, an=2, flags=0x8180)
        + b"\x00\xff\xfe\x00\x01\x00\x00\x00\x01\x00\x04"
        + b"\x01a" + struct.pack("!H", 0xC000 | owner2)
        + b"\x01b" + struct.pack("!H", 0xC000 | 23)
        + b"\x00\x01\x00\x01\x00\x00\x00\x01\x00\x04\xc0\x00\x02\x01"
    )
    out["hostile-label-type-0x40"] = header(1) + b"\x40" + b"x" * 64 + b"\x00" + q_type_class
    out["hostile-label-type-0x80"] = header(1) + b"\x80\x00" + q_type_class
    label63 = b"\x3f" + b"a" * 63
    out["hostile-name-too-long-plain"] = header(1) + label63 * 4 + b"\x00" + q_type_class
    out["hostile-name-too-long-compressed"] = (
        header(2) + label63 * 3 + b"\x00" + q_type_class + b"\x3e" + b"b" * 62 + b"\xc0\x0c" + q_type_class
    )
    # The first answer's rdlength pushed past the end of the message.
    grown = bytearray(a)
    rdlen_at = first_answer_rdlength_offset(a)
    struct.pack_into("!H", grown, rdlen_at, 0x4000)
    out["hostile-rdata-past-end"] = bytes(grown)
    bad_a = bytearray(a)
    struct.pack_into("!H", bad_a, rdlen_at, 5)
    out["hostile-a-rdlength-5"] = bytes(bad_a)
    # The second authority record (NS ns2.other.test, after two answers and
    # NS ns1, a name nothing else points into) with the pointer ending its
    # target made to point past the end: only rendering that rdata finds it,
    # which the parse at the depth dnsvisd reports does not do.
    ns_target = bytearray(a)
    struct.pack_into("!H", ns_target, rdata_offset(a, 3) + 10, 0xFFFF)
    out["hostile-ns-rdata-bad-pointer"] = bytes(ns_target)
    https = real["response-https-alpn-ech-hints"]
    out["hostile-https-cut-mid-rdata"] = https[: len(https) - 40]
    out["hostile-cut-after-question"] = a[: skip_name(a, 12) + 4]
    counts = bytearray(a)
    struct.pack_into("!HHHH", counts, 4, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF)
    out["hostile-counts-ffff"] = bytes(counts)
    return out


def main():
    here = pathlib.Path(__file__).resolve().parent
    target = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else here / "corpus" / "dns-parser"
    target.mkdir(parents=True, exist_ok=True)
    for tool in ("nsd", "dig"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not found")

    with tempfile.TemporaryDirectory(prefix="dnsvis-corpus-") as work:
        (pathlib.Path(work) / "example.test.zone").write_text(ZONE)
        (pathlib.Path(work) / "reverse.zone").write_text(REVERSE_ZONE)
        conf = pathlib.Path(work) / "nsd.conf"
        conf.write_text(NSD_CONF.format(addr=SERVER[0], port=SERVER[1], dir=work))
        nsd = subprocess.Popen(["nsd", "-d", "-c", str(conf)])
        proxy = RecordingProxy()
        proxy.start()
        try:
            wait_for_server()
            real = {}
            for stem, args, keep_query in QUERIES:
                proxy.take()
                cmd = ["dig", "@" + PROXY[0], "-p", str(PROXY[1]), "+tries=1", "+time=2", "+notcp"]
                if "+cookie" not in args:
                    cmd.append("+nocookie")
                subprocess.run(cmd + args, check=False, stdout=subprocess.DEVNULL)
                exchanges = proxy.take()
                if not exchanges or exchanges[0][1] is None:
                    raise SystemExit(f"no exchange recorded for {stem}")
                query, response = exchanges[0]
                if keep_query:
                    real["query-" + stem] = query
                real["response-" + stem] = response
            packets = dict(real)
            packets.update(hostile(real))
        finally:
            proxy.stopping = True
            proxy.join()
            nsd.terminate()
            nsd.wait()

    for name, payload in packets.items():
        (target / (name + ".bin")).write_bytes(payload)
    print(f"wrote {len(packets)} files to {target}")


if __name__ == "__main__":
    main()
