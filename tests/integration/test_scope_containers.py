#!/usr/bin/env python3
"""Container rules with a real Docker container, without the bus: named by
its name right after it started (the runtime is asked before the answer),
and by an id prefix; the rule follows the container to its new cgroup when
it restarts. The captured counter shows what the kernel let through."""
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from container_runtimes import busybox_rootfs, docker_import, Dockerd
from dnsvis_testlib import NSD_ADDRESS, Nsd, Tap, require_root_and_tools, skip, workdir
from test_scope_manager import Driver

IMAGE = "dnsvis-scope-probe:1"


def captured_by_exec(driver, dockerd, name, query):
    before = driver.counters()
    dockerd.docker("exec", name, "nslookup", query, NSD_ADDRESS, check=False)
    time.sleep(0.2)
    after = driver.counters()
    return after[0] - before[0], after[1] - before[1]


def main():
    require_root_and_tools("nsd", "dig", "dockerd", "docker", "/bin/busybox")
    if not os.path.exists(os.environ.get("DNSVIS_SCOPE_DRIVER", "")):
        skip("DNSVIS_SCOPE_DRIVER is not built (run through meson test)")
    tap = Tap()
    work = workdir()
    rootfs = busybox_rootfs(work)
    dockerd = Dockerd(work)
    nsd = None
    driver = None
    name = f"dnsvis-scope-{uuid.uuid4().hex[:6]}"
    try:
        nsd = Nsd(work)
        docker_import(dockerd, rootfs, IMAGE)
        driver = Driver(os.path.join(work, "state"), default_global=False, docker_socket=dockerd.socket)
        full_id = dockerd.docker("run", "-d", "--network=host", f"--name={name}", IMAGE,
                                 "sleep", "3600").stdout.strip()

        captured, filtered = captured_by_exec(driver, dockerd, name, "before.wild.example.test")
        tap.check(captured == 0 and filtered >= 2, "Global=no: the container's queries are filtered",
                  (captured, filtered))

        # Named a moment after it started: the runtime has not been asked yet.
        answer = driver.call(f"container {name} on")
        tap.check(answer.get("ok"), "a container started a moment ago is found by its name", answer)
        scopes = driver.call("list").get("scopes")
        tap.check(["container", full_id, True] in scopes, "the rule is kept by the full id", scopes)
        captured, _ = captured_by_exec(driver, dockerd, name, "enabled.wild.example.test")
        tap.check(captured >= 2, "after EnableContainer its query and answer are captured", captured)

        # Docker restarts it in a new cgroup of the same name: the rule
        # follows within a second.
        dockerd.docker("restart", "-t", "0", name)
        # The rule follows at the next rescan (about a second); a slow
        # build may need a few.
        for attempt in range(6):
            time.sleep(1)
            captured, _ = captured_by_exec(driver, dockerd, name, f"restarted{attempt}.wild.example.test")
            if captured >= 2:
                break
        tap.check(captured >= 2, "the rule follows the restarted container to its new cgroup", captured)

        answer = driver.call(f"container {full_id[:12]} off")
        tap.check(answer.get("ok"), "a unique id prefix names the container", answer)
        captured, _ = captured_by_exec(driver, dockerd, name, "disabled.wild.example.test")
        tap.equal(captured, 0, "after DisableContainer its queries are not captured")
        answer = driver.call("container no-such-name-here on")
        tap.equal(answer.get("error"), "no_such_container", "an unknown name: no_such_container")
        # A name as `docker inspect` prints it, with its leading '/'.
        answer = driver.call(f"container /{name} on")
        tap.check(answer.get("ok") and ["container", full_id, True] in driver.call("list").get("scopes", []),
                  "Docker's '/name' form names the container too", answer)
        tap.equal(driver.call(f"container /{name}/x on").get("error"), "invalid_argument",
                  "a slash past the name's leading one: invalid_argument")
        driver.stop()
        driver = None
    finally:
        if driver is not None:
            driver.stop()
        dockerd.docker("rm", "-f", name, check=False)
        dockerd.stop()
        if nsd is not None:
            nsd.stop()
    tap.finish()


if __name__ == "__main__":
    main()
