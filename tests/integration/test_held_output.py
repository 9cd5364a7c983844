#!/usr/bin/env python3
"""`dnsvisd --output=json | reader` with a reader that stops reading, as a
pager held on its screen does. dnsvisd must not stop with it: after the
stall timeout it says so and counts what the reader misses, it still stops
on SIGTERM at once, the reader never gets a cut line, and once the reader
reads again the entries flow again. A reader that closes the pipe, as
`head` does, is another matter: dnsvisd stops, with its totals in its log
and exit status 3 (dnsvisd(8)), instead of dying of SIGPIPE."""
import contextlib
import json
import os
import re
import select
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from dnsvis_testlib import (NSD_ADDRESS, NotifySocket, Nsd, Tap, attached_dnsvis_programs, dnsvisd_path,
                            require_root_and_tools, workdir)

QUERIES = 3000  # about 2 MB of lines: many times what a pipe holds (64 KiB)
STALL_SECONDS = 5  # the sinks' bound (dnsvisd(8))


def write_config(work):
    """No periodic summary: the counts below are exact, and a slow build
    may run past the default 60 s interval."""
    path = os.path.join(work, "held-output.conf")
    with open(path, "w") as f:
        f.write("[Output]\nSummaryInterval=24h\n")
    return path


def dnsperf(work, name, count):
    queries = os.path.join(work, "queries")
    with open(queries, "w") as f:
        f.write(f"{name} A\n")
    run = subprocess.run(["dnsperf", "-s", NSD_ADDRESS, "-d", queries, "-n", str(count), "-c", "4", "-q", "100"],
                         capture_output=True, text=True, timeout=120)
    sent = re.search(r"Queries sent:\s+(\d+)", run.stdout)
    return int(sent.group(1)) if sent else 0


def poll_until(condition, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def read_available(fd):
    data = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return data
        if not chunk:
            return data
        data += chunk


class PagerReading:
    """The pager goes on: a thread reads all the while, as `less` paging on
    does. Reading once and then sending queries is not enough: dnsvisd may
    still be working off its backlog, fill the pipe again, and the new
    entries would meet a full reader and be counted lost."""

    def __init__(self, fd):
        self.fd = fd
        self.data = b""
        self.last_read = time.monotonic()
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        while not self.stopping.is_set():
            select.select([self.fd], [], [], 0.05)
            chunk = read_available(self.fd)
            if chunk:
                with self.lock:
                    self.data += chunk
                    self.last_read = time.monotonic()

    def wait_until_quiet(self, seconds, timeout):
        """Until nothing arrived for `seconds`: the backlog is worked off."""
        def quiet():
            with self.lock:
                return time.monotonic() - self.last_read >= seconds
        return poll_until(quiet, timeout)

    def wait_for(self, text, timeout):
        def arrived():
            with self.lock:
                return text in self.data
        return poll_until(arrived, timeout)

    def stop(self):
        """Holds again; what it read so far."""
        self.stopping.set()
        self.thread.join()
        return self.data


def whole_lines(data):
    """The JSON lines of `data`, and what else it holds but a last line's start."""
    entries, bad = [], []
    lines = data.decode(errors="replace").split("\n")
    for line in lines[:-1]:
        try:
            entries.append(json.loads(line))
        except ValueError:
            if not line.startswith("dnsvisd: "):  # a log line, when stderr shares the pipe
                bad.append(line[:80])
    return entries, bad


def wait_for_text(path, text, timeout):
    return poll_until(lambda: text in open(path).read(), timeout)


@contextlib.contextmanager
def dnsvisd_on_pipe(work, stderr):
    """dnsvisd with its stdout on a pipe whose reader takes nothing yet, and
    its stderr on `stderr`: a file, or None for the same pipe (`2>&1`).
    Yields the process, the pipe's read end and whether it said READY=1."""
    reader, writer = os.pipe()
    os.set_blocking(reader, False)  # the test's end only
    notify = NotifySocket(work)
    daemon = subprocess.Popen([dnsvisd_path(), "--output=json", f"--config={write_config(work)}", "--no-bus"],
                              stdout=writer, stderr=writer if stderr is None else stderr,
                              env=dict(os.environ, NOTIFY_SOCKET=notify.path))
    os.close(writer)
    try:
        yield daemon, reader, notify.wait_for("READY=1", 30)
    finally:
        if daemon.poll() is None:
            daemon.kill()
        os.close(reader)


def terminate(daemon, timeout):
    """SIGTERM; the exit code, or None if dnsvisd did not stop in time."""
    daemon.terminate()
    try:
        return daemon.wait(timeout)
    except subprocess.TimeoutExpired:
        return None


def read_again(work, reader):
    """The pager goes on, once the stall was declared: what was held
    arrives, then the entries of 50 new queries. Returns the pager, still
    reading, and how many queries were sent."""
    pager = PagerReading(reader)
    pager.wait_until_quiet(1, 30)  # the sanitizer build is slow to work off its backlog
    sent = dnsperf(work, "host.example.test", 50)
    pager.wait_for(b"host.example.test", 15)
    return pager, sent


def main():
    require_root_and_tools("nsd", "dig", "dnsperf", "bpftool")
    tap = Tap()
    work = workdir()
    nsd = Nsd(work, addresses=(NSD_ADDRESS,))
    try:
        to_a_file(tap, work)
        shared_with_stderr(tap, work)
        closed_by_reader(tap, work)
    finally:
        nsd.stop()
    tap.finish()


def to_a_file(tap, work):
    """`dnsvisd --output=json | less`, held, with dnsvisd's log in a file."""
    stderr_path = os.path.join(work, "dnsvisd.stderr")
    with dnsvisd_on_pipe(work, open(stderr_path, "w")) as (daemon, reader, ready):
        tap.check(ready, "dnsvisd is ready with its stdout on a pipe")
        sent = dnsperf(work, "www.example.test", QUERIES)
        tap.check(sent == QUERIES, f"dnsperf sent {QUERIES} queries while the reader reads nothing", sent)
        stalled = wait_for_text(stderr_path, f"took no entry for {STALL_SECONDS * 1000} ms", STALL_SECONDS + 10)
        tap.check(stalled, "dnsvisd says the reader of its output takes nothing", open(stderr_path).read())
        tap.check(daemon.poll() is None, "dnsvisd keeps running")

        pager, again = read_again(work, reader)
        received = pager.stop()
        tap.check(wait_for_text(stderr_path, "takes entries again", 5) and again == 50,
                  "once the reader reads again, dnsvisd says so", open(stderr_path).read())

        # And it stops on SIGTERM at once, though the reader holds again.
        dnsperf(work, "www.example.test", QUERIES)
        time.sleep(0.5)
        started = time.monotonic()
        code = terminate(daemon, 3 * STALL_SECONDS)
        took = time.monotonic() - started
        # At most one batch's budget, then the sanitizer build's work on the
        # rest; a daemon held by its reader would never stop.
        tap.check(code == 0 and took < 2 * STALL_SECONDS,
                  f"SIGTERM with the reader held: dnsvisd exits ({code}) in {took:.1f} s")
        print(f"# stopped {took:.1f} s after SIGTERM", flush=True)
        received += read_available(reader)

    # The start of one last line may wait in the pipe: it was going out
    # when the reader held again, and dnsvisd stopped before its end
    # could (it is counted as lost).
    entries, bad = whole_lines(received)
    tap.equal(bad, [], "every line the reader got is whole JSON, but for one it was taking when dnsvisd stopped")
    names = [entry.get("DNS_NAME") for entry in entries]
    tap.check("host.example.test" in names, "the entries after the stall arrived",
              f"{names.count('www.example.test')} www, {names.count('host.example.test')} host")
    stopped = re.search(r"Stopped: (\d+) transactions reported, (\d+) lost", open(stderr_path).read())
    reported, lost = (int(stopped.group(1)), int(stopped.group(2))) if stopped else (0, 0)
    # Lines written: every transaction and the summary at the stop.
    tap.check(stopped and reported >= 2 * QUERIES + 50 and len(entries) + lost == reported + 1,
              f"each line arrived whole or was counted once: {len(entries)} arrived, {lost} counted lost, "
              f"{reported} transactions reported, {2 * QUERIES + 50} queries",
              stopped.group(0) if stopped else "no stop line")
    print(f"# {len(entries)} lines arrived, {lost} counted lost", flush=True)


def shared_with_stderr(tap, work):
    """`dnsvisd --output=json 2>&1 | less`, held: dnsvisd's own log lines
    share the pipe, and must not land inside a JSON line."""
    with dnsvisd_on_pipe(work, None) as (daemon, reader, ready):
        tap.check(ready, "2>&1: dnsvisd is ready")
        dnsperf(work, "www.example.test", QUERIES)
        time.sleep(STALL_SECONDS + 4)  # the stall is declared first
        pager, _ = read_again(work, reader)
        pager.wait_for(b"takes entries again", 5)
        received = pager.stop()
        code = terminate(daemon, STALL_SECONDS + 5)
        received += read_available(reader)
    tap.equal(code, 0, "2>&1: dnsvisd stops on SIGTERM")
    entries, bad = whole_lines(received)
    tap.equal(bad, [], "2>&1: every line is whole, JSON or dnsvisd's log")
    text = received.decode(errors="replace")
    tap.check("earlier log line(s) dropped" in text and "takes entries again" in text and
              any(entry.get("DNS_NAME") == "host.example.test" for entry in entries),
              "2>&1: the log lines held while a JSON line was half out are counted in the log, "
              "and the entries after the stall arrived",
              [line for line in text.split("\n") if line.startswith("dnsvisd: ")])


def closed_by_reader(tap, work):
    """`dnsvisd --output=json | head -1`: the reader takes one line and
    closes the pipe. The next write finds no reader (EPIPE, with SIGPIPE
    ignored as systemd does for services), and dnsvisd stops cleanly."""
    stderr_path = os.path.join(work, "closed.stderr")
    with dnsvisd_on_pipe(work, open(stderr_path, "w")) as (daemon, reader, ready):
        tap.check(ready, "head: dnsvisd is ready with its stdout on a pipe")
        dnsperf(work, "www.example.test", 10)
        head = PagerReading(reader)
        head.wait_for(b"\n", 15)
        first = head.stop().split(b"\n")[0]
        # The pipe's only read end goes away; the number stays open (on
        # /dev/null) for dnsvisd_on_pipe() to close.
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, reader)
        os.close(devnull)
        sent = dnsperf(work, "host.example.test", 50)
        try:
            code = daemon.wait(15)
        except subprocess.TimeoutExpired:
            code = None
    log = open(stderr_path).read()
    tap.check(first.startswith(b"{") and json.loads(first).get("DNS_NAME") == "www.example.test",
              "head: the reader got a whole first entry", first[:120])
    tap.equal(code, 3, f"head: after {sent} more queries, dnsvisd stops with exit status 3", log)
    tap.check("The reader of the output has closed it; stopping" in log and
              re.search(r"Stopped: \d+ transactions reported, [1-9]\d* lost", log) is not None,
              "head: dnsvisd says why it stops, and counts the entries the reader did not take", log)
    tap.equal(attached_dnsvis_programs(), [], "head: no dnsvis program is left on the cgroup root")


if __name__ == "__main__":
    main()
