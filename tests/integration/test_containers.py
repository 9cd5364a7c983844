#!/usr/bin/env python3
"""Transactions from real containers carry the container's fields: Docker
(id, name, image, Kubernetes labels) and containerd (id from the cgroup);
a query from the host carries none."""
import os
import shutil
import subprocess
import sys
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from container_runtimes import Containerd, Dockerd, busybox_rootfs, docker_import
from dnsvis_testlib import NSD_ADDRESS, Dnsvisd, Nsd, Tap, by_name, require_root_and_tools, skip, workdir

IMAGE = "dnsvis-busybox:test"
CONTAINER_FIELDS = ("CONTAINER_ID", "CONTAINER_ID_FULL", "CONTAINER_NAME", "IMAGE_NAME", "CONTAINER_RUNTIME",
                    "K8S_NAMESPACE", "K8S_POD_NAME", "K8S_CONTAINER_NAME")


def main():
    require_root_and_tools("nsd", "dig", "dockerd", "docker", "containerd", "ctr", "/bin/busybox")
    tap = Tap()
    work = workdir()
    rootfs = busybox_rootfs(work)
    try:
        dockerd = Dockerd(work)
    except RuntimeError as error:
        skip(f"dockerd cannot run here: {error}")
    containerd = None
    nsd = Nsd(work)
    daemon = None
    try:
        docker_import(dockerd, rootfs, IMAGE)
        daemon = Dnsvisd(work, f"[Containers]\nDockerSocket={dockerd.socket}\nPodmanSocket=no\n")

        # Docker, with the labels the kubelet would set.
        name = f"dnsvis-probe-{uuid.uuid4().hex[:6]}"
        query = "docker.wild.example.test"
        full_id = dockerd.docker(
            "run", "-d", "--network=host", f"--name={name}", "--label", "io.kubernetes.pod.name=web-7d4b9c",
            "--label", "io.kubernetes.pod.namespace=shop", "--label", "io.kubernetes.container.name=probe",
            IMAGE, "sh", "-c", f"nslookup {query} {NSD_ADDRESS}; sleep 1").stdout.strip()
        dockerd.docker("wait", full_id)
        found = daemon.wait_for(by_name(query, DNS_TYPE="A"))
        tap.check(found, "a query from a Docker container is reported", daemon.entries()[-5:])
        if found:
            e = found[0]
            tap.equal(e.get("CONTAINER_ID_FULL"), full_id, "CONTAINER_ID_FULL", e)
            tap.equal(e.get("CONTAINER_ID"), full_id[:12], "CONTAINER_ID is the short id")
            tap.equal(e.get("CONTAINER_NAME"), name, "CONTAINER_NAME from the Docker API")
            tap.equal(e.get("IMAGE_NAME"), IMAGE, "IMAGE_NAME from the Docker API")
            tap.equal(e.get("CONTAINER_RUNTIME"), "docker", "CONTAINER_RUNTIME")
            tap.equal(e.get("K8S_POD_NAME"), "web-7d4b9c", "K8S_POD_NAME from io.kubernetes.pod.name")
            tap.equal(e.get("K8S_NAMESPACE"), "shop", "K8S_NAMESPACE from io.kubernetes.pod.namespace")
            tap.equal(e.get("K8S_CONTAINER_NAME"), "probe", "K8S_CONTAINER_NAME from io.kubernetes.container.name")
            tap.equal(e.get("DNS_COMM"), "nslookup", "the process inside the container")
        dockerd.docker("rm", full_id, check=False)

        # containerd through ctr: the id comes from the cgroup (/default/ID).
        try:
            containerd = Containerd(work)
        except RuntimeError as error:
            print(f"# containerd checks skipped: {error}", flush=True)
        if containerd:
            container_id = f"dnsvis-ctr-{uuid.uuid4().hex[:6]}"
            query = "containerd.wild.example.test"
            # The container lingers a moment: the daemon names a container from
            # its cgroup, which ctr --rm removes as soon as the process exits.
            run = containerd.ctr("run", "--rm", "--net-host", "--rootfs", rootfs, container_id, "/bin/sh", "-c",
                                 f"/bin/nslookup {query} {NSD_ADDRESS}; /bin/sleep 1", check=False)
            found = daemon.wait_for(by_name(query, DNS_TYPE="A"))
            tap.check(found, "a query from a containerd container is reported", run.stderr)
            if found:
                tap.equal(found[0].get("CONTAINER_RUNTIME"), "containerd", "containerd: CONTAINER_RUNTIME", found[0])
                tap.equal(found[0].get("CONTAINER_ID_FULL"), container_id, "containerd: the id from the cgroup")

        # The host itself is not a container.
        subprocess.run(["dig", "+tries=1", f"@{NSD_ADDRESS}", "host.example.test"], capture_output=True)
        found = daemon.wait_for(by_name("host.example.test", DNS_COMM="dig"))
        tap.check(found and not any(k in found[0] for k in CONTAINER_FIELDS),
                  "a query from the host carries no container field", found)
    finally:
        if daemon:
            daemon.stop()
        nsd.stop()
        if containerd:
            containerd.stop()
        dockerd.stop()
        shutil.rmtree(work, ignore_errors=True)
    tap.finish()


if __name__ == "__main__":
    main()
