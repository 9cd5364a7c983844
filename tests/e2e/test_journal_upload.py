#!/usr/bin/env python3
"""Fleet shipping on loopback, in a booted systemd: dnsvis entries written
to journald travel through systemd-journal-upload to a
systemd-journal-remote listening on 127.0.0.1, and arrive with every field
intact. Both documented setups are run:
  - packaging/fleet/dnsvis-journal-upload.service: only the dnsvis entries,
    resuming after the last shipped one;
  - the stock systemd-journal-upload of the whole journal, filtered on the
    collector with SYSLOG_IDENTIFIER=dnsvis.
"""
import os
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from booted_systemd import boot_systemd, journal
from dnsvis_testlib import NSD_ADDRESS, Tap, dnsvisd_path, require_root_and_tools, skip

sys.path.insert(0, HERE)
from container_nsd import start_container_nsd

UPLOAD = "/lib/systemd/systemd-journal-upload"
REMOTE = "/lib/systemd/systemd-journal-remote"
FLEET = os.path.join(os.environ.get("DNSVIS_SOURCE_ROOT", os.path.join(HERE, "..", "..")), "packaging", "fleet")
NSD_DIR = "/srv/dnsvis-upload-nsd"
RUN = uuid.uuid4().hex[:8]
# Fields the receiving journal assigns itself: where the entry sits in it.
LOCAL_TO_A_JOURNAL = {"__CURSOR", "__SEQNUM", "__SEQNUM_ID"}


def main():
    require_root_and_tools("systemd-nspawn", "nsenter", "nsd", "dig", "logger")
    for tool in (UPLOAD, REMOTE):
        if not os.path.exists(tool):
            skip(f"{tool} is missing (Debian package systemd-journal-remote)")
    tap = Tap()
    container = boot_systemd(bind_read_only=[os.path.dirname(os.path.realpath(dnsvisd_path())),
                                             os.path.realpath(FLEET)])
    try:
        run_checks(tap, container)
    finally:
        container.stop()
    tap.finish()


def comparable(entry):
    return {k: v for k, v in entry.items() if k not in LOCAL_TO_A_JOURNAL}


def by_key(entries):
    """Entries keyed by what identifies one dnsvis entry across journals."""
    return {(e.get("MESSAGE_ID"), e.get("DNS_NAME"), e.get("DNS_ID"), e.get("__REALTIME_TIMESTAMP")): e
            for e in entries}


def start_collector(container, unit, port, directory):
    container.run("mkdir", "-p", directory)
    container.run("systemd-run", f"--unit={unit}", REMOTE, f"--listen-http=127.0.0.1:{port}",
                  f"--output={directory}/", "--split-mode=host")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if f"127.0.0.1:{port}" in container.run("ss", "-Htln", check=False).stdout:
            return True
        time.sleep(0.2)
    return False


def wait_for_entries(container, directory, count, timeout=15):
    deadline = time.monotonic() + timeout
    while True:
        found = journal(container, "-D", directory, "SYSLOG_IDENTIFIER=dnsvis")
        if len(found) >= count or time.monotonic() >= deadline:
            return found
        time.sleep(0.3)


def run_checks(tap, c):
    error = start_container_nsd(c, NSD_DIR, "upload-test-nsd")
    tap.check(error is None, "NSD answers inside the container", error)
    daemon = c.run("systemd-run", "--unit=dnsvis-under-test", "-p", "Type=notify", "-E", "ASAN_OPTIONS=detect_leaks=0",
                   dnsvisd_path(), "--output=journal", "--config=/dev/null", check=False)
    tap.equal(daemon.returncode, 0, "dnsvisd runs as a notify service in the booted systemd", daemon.stderr)

    # Several kinds of entry, so many fields travel: answers with spaces, an
    # NXDOMAIN, an MX, a client unit.
    names = [("www.example.test", "A"), (f"nosuch-{RUN}.example.test", "AAAA"), ("mail.example.test", "MX")]
    for i, (name, qtype) in enumerate(names):
        c.run("systemd-run", f"--unit=upload-client-{i}", "--wait", "--quiet", "sh", "-c",
              f"dig +tries=2 +time=2 @{NSD_ADDRESS} {name} {qtype}; sleep 0.5", check=False)
    c.run("logger", "-t", "not-dnsvis", f"an entry that must stay home {RUN}")
    deadline = time.monotonic() + 15
    while len(journal(c, "SYSLOG_IDENTIFIER=dnsvis")) < len(names) and time.monotonic() < deadline:
        time.sleep(0.3)
    source = journal(c, "SYSLOG_IDENTIFIER=dnsvis")
    tap.equal(len(source), len(names), "the local journal holds one dnsvis entry per query")

    # 1. The fleet unit: only dnsvis entries, resumable.
    tap.check(start_collector(c, "collector-dnsvis", 19532, "/var/lib/collector-dnsvis"),
              "systemd-journal-remote listens on 127.0.0.1:19532")
    os.makedirs(c.root + "/etc/systemd/system/dnsvis-journal-upload.service.d", exist_ok=True)
    for name in ("dnsvis-journal-upload.service", "dnsvis-journal-upload.timer"):
        with open(os.path.join(FLEET, name)) as src, open(c.root + "/etc/systemd/system/" + name, "w") as dst:
            dst.write(src.read())
    with open(c.root + "/etc/systemd/system/dnsvis-journal-upload.service.d/collector.conf", "w") as dropin:
        dropin.write("[Service]\nEnvironment=COLLECTOR_URL=http://127.0.0.1:19532\n")
    c.run("systemctl", "daemon-reload")
    shipped = c.run("systemctl", "start", "dnsvis-journal-upload.service", check=False, timeout=120)
    tap.equal(shipped.returncode, 0, "systemctl start dnsvis-journal-upload.service succeeds",
              c.run("journalctl", "--no-pager", "-u", "dnsvis-journal-upload", check=False).stdout[-2000:])

    received = wait_for_entries(c, "/var/lib/collector-dnsvis", len(source))
    tap.equal(len(received), len(source), "the collector received every dnsvis entry")
    everything = journal(c, "-D", "/var/lib/collector-dnsvis")
    tap.check(all(e.get("SYSLOG_IDENTIFIER") == "dnsvis" for e in everything),
              "and nothing else (the not-dnsvis entry stayed home)",
              [e.get("SYSLOG_IDENTIFIER") for e in everything])
    local, remote = by_key(source), by_key(received)
    for key, entry in local.items():
        arrived = remote.get(key)
        tap.equal(comparable(arrived) if arrived else None, comparable(entry),
                  f"{entry.get('DNS_NAME')} {entry.get('DNS_TYPE')}: every field arrives identical")
    tap.check(any(e.get("DNS_ANSWERS") == "192.0.2.10 192.0.2.11" for e in received),
              "DNS_ANSWERS with its spaces intact", [e.get("DNS_ANSWERS") for e in received])

    # A second run ships only what is new.
    later = f"later-{RUN}.wild.example.test"
    c.run("systemd-run", "--unit=upload-client-later", "--wait", "--quiet", "sh", "-c",
          f"dig +tries=2 +time=2 @{NSD_ADDRESS} {later} A; sleep 0.5", check=False)
    deadline = time.monotonic() + 15
    while not journal(c, f"DNS_NAME={later}") and time.monotonic() < deadline:
        time.sleep(0.3)
    c.run("systemctl", "start", "dnsvis-journal-upload.service", check=False, timeout=120)
    received = wait_for_entries(c, "/var/lib/collector-dnsvis", len(source) + 1)
    tap.check(len(received) == len(source) + 1 and sum(e.get("DNS_NAME") == later for e in received) == 1,
              "a second run ships the one new entry, and nothing twice", [e.get("DNS_NAME") for e in received])

    # 2. The stock uploader, whole journal; the collector filters.
    tap.check(start_collector(c, "collector-all", 19533, "/var/lib/collector-all"),
              "a second systemd-journal-remote listens on 127.0.0.1:19533")
    stock = c.run(UPLOAD, "--url=http://127.0.0.1:19533", "--save-state=/var/lib/collector-all-state",
                  "--follow=no", check=False, timeout=120)
    tap.equal(stock.returncode, 0, "systemd-journal-upload of the whole journal succeeds", stock.stderr[-2000:])
    received = wait_for_entries(c, "/var/lib/collector-all", len(source) + 1)
    want = by_key(journal(c, "SYSLOG_IDENTIFIER=dnsvis"))
    got = by_key(received)
    tap.check(set(got) == set(want) and all(comparable(got[k]) == comparable(want[k]) for k in want),
              "journalctl -D COLLECTOR SYSLOG_IDENTIFIER=dnsvis shows every dnsvis entry, identical",
              (sorted(map(str, set(want) ^ set(got)))))
    c.run("systemctl", "stop", "dnsvis-under-test.service", check=False)


if __name__ == "__main__":
    main()
