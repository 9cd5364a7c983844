#!/usr/bin/env python3
"""More containers appear at once than dnsvisd asks their runtime about at
a time (64 lookups): those it does not ask then are asked later, when they
send DNS, and are reported with their names. (They used to be taken for
containers the runtime does not know, and reported without a name for the
next 10 s.)

The runtime is a stand-in Docker Engine API on a socket of the test's own
that answers each lookup after a pause, so that the first 64 are still
under way when the rest of the cgroups appear."""
import json
import os
import socketserver
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler

sys.path.insert(0, os.path.dirname(__file__))
from dnsvis_testlib import (NSD_ADDRESS, Cgroups, Dnsvisd, Nsd, Tap, cgroup2_root, dig_in, patience,
                            require_root_and_tools, workdir)

CONTAINERS = 80  # more than the 64 lookups dnsvisd keeps under way
ANSWER_DELAY_SECONDS = 1.5


class SlowDockerApi(BaseHTTPRequestHandler):
    """GET /containers/<id>/json, answered after ANSWER_DELAY_SECONDS."""

    def do_GET(self):
        parts = self.path.strip("/").split("/")
        if len(parts) != 3 or parts[0] != "containers" or parts[2] != "json":
            self.send_error(404)
            return
        container_id = parts[1]
        self.server.asked.append(container_id)
        time.sleep(ANSWER_DELAY_SECONDS)
        body = json.dumps({"Id": container_id, "Name": "/busy-" + container_id[:8],
                           "Config": {"Image": "busy:1", "Labels": {}}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class SlowDockerServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    request_queue_size = 256  # every connection dnsvisd opens at once is taken

    def __init__(self, path):
        super().__init__(path, SlowDockerApi)
        self.asked = []

    def get_request(self):
        # A Unix socket's peer has no address; BaseHTTPRequestHandler wants one.
        request, _ = super().get_request()
        return request, ("local", 0)


def main():
    require_root_and_tools("nsd", "dig")
    tap = Tap()
    work = workdir()
    nsd = Nsd(work)
    socket_path = os.path.join(work, "docker.sock")
    api = SlowDockerServer(socket_path)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    cgroups = Cgroups(cgroup2_root())
    daemon = None
    try:
        daemon = Dnsvisd(work, f"[Containers]\nDockerSocket={socket_path}\nPodmanSocket=no\nContainerdSocket=no\n"
                               f"CrioSocket=no\nMetadataWait=3s\n")
        slice_path = cgroups.make(f"dnsvis-test-busy-{uuid.uuid4().hex[:6]}.slice")
        ids = [uuid.uuid4().hex + uuid.uuid4().hex for _ in range(CONTAINERS)]
        paths = [cgroups.make(os.path.join(os.path.basename(slice_path), f"docker-{i}.scope")) for i in ids]
        # dnsvisd asks about each new container cgroup as it appears; the
        # first 64 lookups are still under way when the last cgroups come.
        # A query from the first container meanwhile waits for its lookup.
        dig_in(paths[0], "early.wild.example.test")
        time.sleep(patience(ANSWER_DELAY_SECONDS + 1.5))
        tap.check(64 <= len(set(api.asked)) < CONTAINERS,
                  "when the cgroups appeared, dnsvisd asked about 64 containers, not all of them",
                  f"{len(set(api.asked))} asked")

        names = {f"busy{number}.wild.example.test" for number in range(CONTAINERS)}
        for number, path in enumerate(paths):
            dig_in(path, f"busy{number}.wild.example.test")
        deadline = time.monotonic() + patience(15)
        found = []
        while len(found) < CONTAINERS and time.monotonic() < deadline:
            time.sleep(0.3)
            found = [e for e in daemon.entries() if e.get("DNS_NAME") in names]
        tap.equal(len(found), CONTAINERS, "a query from each container is reported")
        unnamed = [e.get("CONTAINER_ID_FULL") for e in found
                   if e.get("CONTAINER_NAME") != "busy-" + e.get("CONTAINER_ID_FULL", "")[:8]]
        tap.equal(unnamed, [], "each is reported with the name its runtime gave, those asked late included")
        tap.equal(sorted(set(api.asked)), sorted(ids), "in the end the runtime was asked about every container")
        early = [e for e in daemon.entries() if e.get("DNS_NAME") == "early.wild.example.test"]
        tap.equal([e.get("CONTAINER_NAME") for e in early], ["busy-" + ids[0][:8]],
                  "a query sent while its container's lookup was under way waited for it and is named")
    finally:
        if daemon:
            daemon.stop()
        cgroups.remove_all()
        api.shutdown()
        api.server_close()
        nsd.stop()
    tap.finish()


if __name__ == "__main__":
    main()
