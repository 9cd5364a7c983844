"""Shared pieces of the integration tests: TAP reporting, a real NSD on
loopback, and dnsvisd run from the build tree with --output=json.

Every test talks to real parts: the kernel loads the real BPF programs, NSD
answers, dig/getent ask, and the checks read what dnsvisd printed.
"""
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

# Loopback addresses of our own (127/8 is all loopback), so the tests never
# collide with a resolver the machine may run on 127.0.0.1/127.0.0.53.
NSD_ADDRESS = "127.53.0.1"
SILENT_ADDRESS = "127.53.0.9"


def same_file(a, b):
    try:
        first, second = os.fstat(a.fileno()), os.fstat(b.fileno())
    except (OSError, ValueError):
        return False
    return (first.st_dev, first.st_ino) == (second.st_dev, second.st_ino)


class Tap:
    """Minimal TAP producer: meson counts and shows each check."""

    def __init__(self):
        self.count = 0
        self.failed = 0

    def check(self, condition, description, detail=None):
        self.count += 1
        if condition:
            print(f"ok {self.count} - {description}", flush=True)
        else:
            self.failed += 1
            print(f"not ok {self.count} - {description}", flush=True)
            if detail is not None:
                for line in str(detail).splitlines():
                    print(f"# {line}", flush=True)
            # Again on stderr: meson's summary of a failed test shows only
            # stderr, and a CI log is often all there is to go on. Not where
            # stderr is stdout (in a guest), whose reader would count it twice.
            if not same_file(sys.stdout, sys.stderr):
                print(f"not ok {self.count} - {description}", file=sys.stderr, flush=True)
                if detail is not None:
                    print(str(detail), file=sys.stderr, flush=True)
        return condition

    def equal(self, actual, expected, description, context=None):
        detail = f"expected {expected!r}, got {actual!r}"
        if context:
            detail += f"\n{context}"
        return self.check(actual == expected, description, detail)

    def finish(self):
        print(f"1..{self.count}", flush=True)
        sys.exit(1 if self.failed else 0)


def patience(seconds):
    """`seconds` of waiting, stretched by DNSVIS_TIME_SCALE where everything
    runs slower than on the machines the limits were set on (guest_kernel.py
    sets it under emulation). Still finite: a broken feature still fails."""
    return seconds * float(os.environ.get("DNSVIS_TIME_SCALE", "1"))


def skip(reason):
    """Skips the whole test: meson reads '1..0 # SKIP' in TAP."""
    print(f"1..0 # SKIP {reason}", flush=True)
    sys.exit(77)


def require_root_and_tools(*tools):
    if os.geteuid() != 0:
        skip("needs root to load BPF programs")
    for tool in tools:
        if not shutil.which(tool) and not os.path.exists(tool):
            skip(f"{tool} is not installed")


ZONE = """$ORIGIN example.test.
$TTL 300
@       SOA   ns1 hostmaster 2026112101 3600 900 604800 300
@       NS    ns1
ns1     A     192.0.2.1
www     A     192.0.2.10
www     A     192.0.2.11
www     AAAA  2001:db8::10
host    A     192.0.2.30
alias   CNAME alias2
alias2  CNAME www
mail    MX    10 mx1.example.test.
_sip._udp SRV 10 60 5060 sip.example.test.
svc     HTTPS 1 . alpn="h2,h3" port=8443 ipv4hint=192.0.2.20
text    TXT   "hello world" "second string"
*.wild  A     192.0.2.40
"""


def big_txt_records(count=12, length=200):
    return "".join(f'big     TXT   "{chr(97 + i % 26) * length}"\n' for i in range(count))


def dns_query(query_id, name, qtype=16, padding=0):
    """A recursive query in wire form for `name`; `padding` adds an EDNS
    Padding option (RFC 7830) of that many bytes, to make it large."""
    labels = b"".join(bytes([len(label)]) + label.encode() for label in name.split("."))
    extra = 1 if padding else 0
    message = struct.pack(">HHHHHH", query_id, 0x0100, 1, 0, 0, extra) + labels + b"\0" + struct.pack(">HH", qtype, 1)
    if padding:
        option = struct.pack(">HH", 12, padding) + bytes(padding)
        message += b"\0" + struct.pack(">HHIH", 41, 1232, 0, len(option)) + option
    return message


def txt_answer(query, texts):
    """An authoritative answer to `query`'s one question: a TXT record per
    text, each owned by the question's name (a pointer to offset 12)."""
    end = 12
    while query[end] != 0:
        end += 1 + query[end]
    question = query[12:end + 5]
    flags = 0x8400 | (struct.unpack(">H", query[2:4])[0] & 0x0100)  # QR AA, RD copied
    records = b""
    for text in texts:
        rdata = bytes([len(text)]) + text
        records += b"\xc0\x0c" + struct.pack(">HHIH", 16, 1, 60, len(rdata)) + rdata
    return query[0:2] + struct.pack(">HHHHH", flags, 1, len(texts), 0, 0) + question + records


def framed(message):
    """A DNS message as written on TCP: after its two-byte length."""
    return len(message).to_bytes(2, "big") + message


def read_exactly(connection, size):
    data = b""
    while len(data) < size:
        chunk = connection.recv(size - len(data))
        if not chunk:
            raise ConnectionError(f"connection closed after {len(data)} of {size} bytes")
        data += chunk
    return data


def read_framed(connection):
    """The next DNS message on a TCP connection."""
    return read_exactly(connection, int.from_bytes(read_exactly(connection, 2), "big"))


def accept_tcp_dns_client(address="127.0.0.1"):
    """For a test's own DNS-over-TCP server: listens on port 53 of
    `address`, prints "ready" for the test, and returns the first client's
    connection, which writes each send as a segment of its own."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((address, 53))
    listener.listen(1)
    print("ready", flush=True)
    connection, _ = listener.accept()
    listener.close()
    connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return connection


def write_nsd_config(directory, addresses=(NSD_ADDRESS, "::1"), seen_as=None, more_records=""):
    """Writes example.test's zone, with `more_records` lines added, and an
    nsd.conf serving it on `addresses`, port 53, into `directory`; loopback
    clients may transfer the zone. `seen_as` is that directory's path as NSD
    will see it (inside a container), if not the same. Returns the nsd.conf
    path."""
    os.makedirs(directory, exist_ok=True)
    where = seen_as or directory
    with open(os.path.join(directory, "example.test.zone"), "w") as zone:
        zone.write(ZONE + big_txt_records() + more_records)
    listen = "".join(f"  ip-address: {a}\n" for a in addresses)
    with open(os.path.join(directory, "nsd.conf"), "w") as conf:
        conf.write(
            "server:\n" + listen +
            f"  port: 53\n  username: \"\"\n  chroot: \"\"\n  zonesdir: \"{where}\"\n"
            f"  pidfile: \"{where}/nsd.pid\"\n  database: \"\"\n"
            f"  xfrdfile: \"{where}/xfrd.state\"\n  zonelistfile: \"{where}/zone.list\"\n"
            f"  xfrdir: \"{where}\"\n  logfile: \"{where}/nsd.log\"\n"
            "  rrl-ratelimit: 0\n  ipv4-edns-size: 4096\n  ipv6-edns-size: 4096\n  server-count: 1\n  verbosity: 1\n  hide-version: yes\n"
            "remote-control:\n  control-enable: no\n"
            "zone:\n  name: example.test\n  zonefile: example.test.zone\n"
            "  provide-xfr: 127.0.0.0/8 NOKEY\n  provide-xfr: ::1 NOKEY\n")
    return os.path.join(directory, "nsd.conf")


class Nsd:
    """NSD serving example.test on 127.53.0.1 and ::1, port 53."""

    def __init__(self, workdir, addresses=(NSD_ADDRESS, "::1"), more_records=""):
        self.dir = os.path.join(workdir, "nsd")
        write_nsd_config(self.dir, addresses, more_records=more_records)
        self.process = subprocess.Popen(["nsd", "-d", "-c", os.path.join(self.dir, "nsd.conf")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            probe = subprocess.run(["dig", "+short", "+tries=1", "+time=1", f"@{addresses[0]}", "ns1.example.test"],
                                   capture_output=True, text=True)
            if self.process.poll() is not None:
                break  # e.g. another server holds the address: its answers are not ours
            if probe.stdout.strip() == "192.0.2.1":
                time.sleep(0.3)
                if self.process.poll() is None:
                    return
                break
            time.sleep(0.2)
        log = open(os.path.join(self.dir, "nsd.log")).read() if os.path.exists(os.path.join(self.dir, "nsd.log")) else ""
        self.stop()
        raise RuntimeError(f"NSD did not start: {log}")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


class NotifySocket:
    """Receives sd_notify() messages, as systemd would."""

    def __init__(self, workdir):
        self.path = tempfile.mktemp(prefix="notify-", suffix=".sock", dir=workdir)
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socket.bind(self.path)

    def wait_for(self, text, timeout):
        timeout = patience(timeout)
        self.socket.settimeout(timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                message = self.socket.recv(4096).decode()
            except socket.timeout:
                break
            if text in message.split("\n"):
                return True
        return False


def bpf_map_of(pid, name):
    """bpftool's description of the BPF map `name` that process `pid` holds,
    else of the newest map of that name."""
    maps = json.loads(subprocess.run(["bpftool", "-j", "map", "show"], capture_output=True, text=True,
                                     check=True).stdout)
    candidates = [m for m in maps if m.get("name") == name]
    owned = [m for m in candidates if any(p.get("pid") == pid for p in m.get("pids", []))]
    chosen = (owned or candidates)[-1:]
    if not chosen:
        raise RuntimeError(f"no BPF map named {name}")
    return chosen[0]


# setpriv's --bounding-set that denies dnsvisd reading kernel memory: no
# CAP_PERFMON, and no CAP_SYS_ADMIN, which would stand in for it.
WITHOUT_KERNEL_READS = "-perfmon,-sys_admin"


def dnsvisd_path():
    return os.environ.get("DNSVISD", "dnsvisd")


class Dnsvisd:
    """dnsvisd --output=json from the build tree, with its own config file;
    `prefix` runs it through a command that execs it (setpriv, say)."""

    def __init__(self, workdir, config_text="", extra_args=(), prefix=()):
        self.workdir = workdir
        self.config = os.path.join(workdir, "dnsvis.conf")
        with open(self.config, "w") as f:
            f.write(config_text)
        self.output_path = os.path.join(workdir, "dnsvisd.jsonl")
        self.stderr_path = os.path.join(workdir, "dnsvisd.stderr")
        self.notify = NotifySocket(workdir)
        env = dict(os.environ, NOTIFY_SOCKET=self.notify.path)
        self.process = subprocess.Popen(
            [*prefix, dnsvisd_path(), "--output=json", f"--config={self.config}", *extra_args],
            stdout=open(self.output_path, "w"), stderr=open(self.stderr_path, "w"), env=env)
        if not self.notify.wait_for("READY=1", 30):
            self.process.kill()
            raise RuntimeError("dnsvisd did not become ready: " + self.stderr())

    def stderr(self):
        return open(self.stderr_path).read()

    def entries(self):
        out = []
        with open(self.output_path, encoding="utf-8", errors="strict") as f:
            for line in f:
                if line.endswith("\n"):
                    out.append(json.loads(line))
        return out

    def wait_for(self, predicate, timeout=10.0):
        """The entries matching `predicate`, waiting up to `timeout` for at least one."""
        deadline = time.monotonic() + patience(timeout)
        while True:
            found = [e for e in self.entries() if predicate(e)]
            if found or time.monotonic() >= deadline:
                return found
            time.sleep(0.1)

    def stop(self, signum=signal.SIGTERM):
        if self.process.poll() is None:
            self.process.send_signal(signum)
            try:
                return self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()  # gone, and its programs with it, before the next test
                return None
        return self.process.returncode


def by_name(name, **fields):
    def predicate(entry):
        if entry.get("DNS_NAME") != name:
            return False
        return all(entry.get(k) == v for k, v in fields.items())
    return predicate


def cgroup2_root():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            if right.split()[0] == "cgroup2":
                return left.split()[4]
    return None


class Cgroups:
    """cgroups below a slice of our own in the cgroup2 root, removed at the end."""

    def __init__(self, root):
        self.root = root
        self.made = []

    def make(self, relative):
        path = os.path.join(self.root, relative)
        os.mkdir(path)
        self.made.append(path)
        return path

    def remove_all(self):
        for path in reversed(self.made):
            for _ in range(50):
                try:
                    os.rmdir(path)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    # A process we started may still be leaving it.
                    time.sleep(0.1)


def dig_in(cgroup, name):
    """dig from inside `cgroup` (None: our own cgroup)."""
    move = f'echo $$ > "{cgroup}/cgroup.procs" && ' if cgroup else ""
    subprocess.run(["sh", "-c", f"{move}exec dig +tries=1 +time=2 @{NSD_ADDRESS} {name} A"],
                   capture_output=True, timeout=30)


def attached_dnsvis_programs():
    """bpftool's lines for the dnsvis_* programs attached to the cgroup2 root."""
    out = subprocess.run(["bpftool", "cgroup", "show", cgroup2_root()], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if "dnsvis_" in line]


def attached_dnsvis_program_names():
    """The names alone of the dnsvis_* programs on the cgroup2 root, sorted."""
    return sorted(word for line in attached_dnsvis_programs() for word in line.split() if word.startswith("dnsvis_"))


class NetworkNamespace:
    """A network namespace of a test's own, with its loopback up; delete()
    removes it with whatever the test set up in it."""

    def __init__(self, name):
        self.name = name
        subprocess.run(["ip", "netns", "del", name], capture_output=True)  # left by a killed run
        subprocess.run(["ip", "netns", "add", name], check=True)
        self.run("ip", "link", "set", "lo", "up", check=True)

    def command(self, *command):
        """`command` as run inside the namespace, for Popen."""
        return ["ip", "netns", "exec", self.name, *command]

    def run(self, *command, **kwargs):
        return subprocess.run(self.command(*command), capture_output=True, text=True, timeout=30, **kwargs)

    def delete(self):
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


def workdir():
    return tempfile.mkdtemp(prefix="dnsvis-test-")


CAP_SYS_PTRACE = 19  # all dnsvisd keeps once attached


def capability_sets(pid, task=None):
    sets = {}
    with open(f"/proc/{pid}/task/{task}/status" if task else f"/proc/{pid}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key.startswith("Cap"):
                sets[key] = int(value.strip(), 16)
    return sets


def threads_holding_more(pid, allowed):
    """Threads of `pid` whose effective or permitted set holds more than
    `allowed`: capabilities belong to a thread, and /proc/PID/status shows
    only the main one's."""
    held = []
    for task in sorted(os.listdir(f"/proc/{pid}/task")):
        try:
            sets = capability_sets(pid, task)
        except (FileNotFoundError, ProcessLookupError):
            continue  # a thread that ended meanwhile (gRPC's pools come and go)
        if (sets["CapEff"] | sets["CapPrm"]) & ~allowed:
            held.append(f"task {task}: CapEff {sets['CapEff']:#x} CapPrm {sets['CapPrm']:#x}")
    return held
