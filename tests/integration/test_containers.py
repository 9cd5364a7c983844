#!/usr/bin/env python3
"""Transactions from real containers carry the container's fields: Docker
(id, name, image, Kubernetes labels, over the Engine API), containerd (id
from the cgroup; image and Kubernetes labels over its gRPC API), a Docker
container that exits right after its query (id from the cgroup, daemon
unharmed); a query from the host carries none. CRI-O is not packaged in
Debian 12, so it has no test here (its inspect answer is unit-tested)."""
import os
import shutil
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from container_runtimes import Containerd, busybox_rootfs, docker_import, Dockerd
from dnsvis_testlib import (CAP_SYS_PTRACE, NSD_ADDRESS, Cgroups, Dnsvisd, Nsd, Tap, by_name, cgroup2_root, dig_in,
                            require_root_and_tools, threads_holding_more, workdir)

IMAGE = "dnsvis-busybox:test"
CONTAINERD_IMAGE = "docker.io/library/" + IMAGE  # as ctr names it after importing `docker save`
CONTAINER_FIELDS = ("CONTAINER_ID", "CONTAINER_ID_FULL", "CONTAINER_NAME", "IMAGE_NAME", "CONTAINER_RUNTIME",
                    "K8S_NAMESPACE", "K8S_POD_NAME", "K8S_CONTAINER_NAME")


USER = 4242


def check_forged_container(tap, daemon, docker_id):
    """A cgroup a user made and named after the Docker container (still
    known to dockerd), in a subtree systemd delegated to the user: their
    service manager, whose name says so, and a Delegate=yes service with
    User=, which only its directory's owner tells; and one named like a
    podman conmon monitor of that container (whose runtime is asked
    through docker.sock when no podman socket is there). Its query keeps
    the id the name gives, but not the real container's name, image or
    labels."""
    cgroups = Cgroups(cgroup2_root())
    try:
        cgroups.make("dnsvis-test-forged.slice")
        for subtree, query, leaf in ((f"user@{USER}.service", "forged.wild.example.test", f"docker-{docker_id}.scope"),
                                     ("dnsvis-test-delegated.service", "delegated.wild.example.test",
                                      f"docker-{docker_id}.scope"),
                                     ("dnsvis-test-conmon.service", "conmon.wild.example.test",
                                      f"libpod-conmon-{docker_id}.scope")):
            delegated = cgroups.make(f"dnsvis-test-forged.slice/{subtree}")
            os.chown(delegated, USER, USER)  # as systemd hands it over
            forged = os.path.join(delegated, leaf)
            subprocess.run(["setpriv", f"--reuid={USER}", f"--regid={USER}", "--clear-groups", "mkdir", forged],
                           check=True)  # the user's own mkdir
            cgroups.made.append(forged)
            dig_in(forged, query)
            found = daemon.wait_for(by_name(query, DNS_TYPE="A"))
            tap.equal(len(found), 1, f"a query from a user's cgroup named after a container, in {subtree}, is reported")
            if found:
                e = found[0]
                tap.equal(e.get("CONTAINER_ID_FULL"), docker_id, "with the id its cgroup's name gives", e)
                tap.equal([field for field in ("CONTAINER_NAME", "IMAGE_NAME", "K8S_POD_NAME") if field in e], [],
                          "but not the real container's name, image or labels: the host's Docker is not asked", e)
    finally:
        cgroups.remove_all()


def check_layouts_docker_shares(tap, daemon, dockerd):
    """Two layouts that do not name their runtime, made by Docker on a host
    that also runs containerd (as every Docker host does): a Kubernetes pod
    container under the kubelet's cgroupfs driver (cri-dockerd), and a
    container under --cgroup-parent=/<name>, which is also containerd's own
    layout. containerd, asked first, does not know them; Docker does."""
    tag = uuid.uuid4().hex[:6]
    pod_uid = str(uuid.uuid4())
    for parent, query, what in ((f"/kubepods/besteffort/pod{pod_uid}", "dockerpod.wild.example.test", "kubepods"),
                                (f"/dnsvis-ci-{tag}", "dockerparent.wild.example.test", "--cgroup-parent")):
        name = f"dnsvis-layout-{uuid.uuid4().hex[:6]}"
        run = dockerd.docker("run", "--rm", "--network=host", f"--cgroup-parent={parent}", f"--name={name}", IMAGE,
                             "sh", "-c", f"nslookup {query} {NSD_ADDRESS}; sleep 1", check=False)
        found = daemon.wait_for(by_name(query, DNS_TYPE="A"))
        tap.check(found, f"{what}: a query from a Docker container is reported", run.stderr)
        if found:
            e = found[0]
            tap.equal(e.get("DNS_CGROUP", "").rsplit("/", 1)[0], parent, f"{what}: in the layout meant", e)
            tap.equal(e.get("CONTAINER_NAME"), name, f"{what}: CONTAINER_NAME from Docker, asked after containerd")
            tap.equal(e.get("CONTAINER_RUNTIME"), "docker", f"{what}: CONTAINER_RUNTIME, the runtime that answered")
    for parent in ("/kubepods/besteffort", f"/dnsvis-ci-{tag}"):
        path = cgroup2_root() + parent
        for leaf in ([f"pod{pod_uid}"] if "kubepods" in parent else []) + [""]:
            try:
                os.rmdir(os.path.join(path, leaf) if leaf else path)
            except OSError:
                pass  # in use or not ours (the kubepods tree is shared with the pod test)


def main():
    require_root_and_tools("nsd", "dig", "dockerd", "docker", "containerd", "ctr", "/bin/busybox")
    tap = Tap()
    work = workdir()
    rootfs = busybox_rootfs(work)
    dockerd = Dockerd(work)
    containerd = None  # until it has started, for the cleanup below
    nsd = None
    daemon = None
    try:
        containerd = Containerd(work)
        nsd = Nsd(work)
        docker_import(dockerd, rootfs, IMAGE)
        # No registry here: containerd gets the image Docker made.
        image_tar = os.path.join(work, "image.tar")
        dockerd.docker("save", "-o", image_tar, IMAGE)
        containerd.ctr("images", "import", image_tar)
        # containerd's first answer includes connecting to it; a loaded
        # sanitizer build may need longer than the default 250 ms.
        # A short Timeout= shortens how long a removed cgroup is remembered
        # (Timeout= + MetadataWait= + 5 s), so the test can see it forgotten.
        daemon = Dnsvisd(work, f"[Transactions]\nTimeout=1s\n"
                               f"[Containers]\nDockerSocket={dockerd.socket}\nPodmanSocket=no\nCrioSocket=no\n"
                               f"ContainerdSocket={containerd.socket}\nMetadataWait=3s\n",
                         extra_args=["--log-level=debug"])

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
        check_forged_container(tap, daemon, full_id)
        dockerd.docker("rm", full_id, check=False)

        # A container that exits as soon as it has its answer, and is removed
        # (--rm) with its cgroup: the id still comes from the cgroup, and the
        # name from the lookup made when its cgroup appeared.
        query = "quick.wild.example.test"
        cidfile = os.path.join(work, "quick.cid")
        quick_name = f"dnsvis-quick-{uuid.uuid4().hex[:6]}"
        run = dockerd.docker("run", "--rm", "--network=host", f"--cidfile={cidfile}", f"--name={quick_name}", IMAGE,
                             "nslookup", query, NSD_ADDRESS, check=False)
        quick_id = open(cidfile).read().strip() if os.path.exists(cidfile) else None
        found = daemon.wait_for(by_name(query, DNS_TYPE="A"))
        tap.check(found and quick_id, "a query from a container that exits at once is reported", run.stderr)
        if found and quick_id:
            tap.equal(found[0].get("CONTAINER_ID_FULL"), quick_id, "exited at once: the id from the cgroup", found[0])
            tap.equal(found[0].get("CONTAINER_RUNTIME"), "docker", "exited at once: CONTAINER_RUNTIME")
            tap.equal(found[0].get("CONTAINER_NAME"), quick_name, "exited at once: CONTAINER_NAME")
        tap.check(daemon.process.poll() is None, "the daemon keeps running after the container is gone",
                  daemon.stderr()[-2000:])

        # ctr with a bare root file system: containerd knows labels, no
        # image. It exits, and ctr --rm deletes it, at once.
        container_id = f"dnsvis-ctr-{uuid.uuid4().hex[:6]}"
        query = "containerd.wild.example.test"
        # --rootfs is a flag: the root file system is the first argument,
        # after every flag.
        run = containerd.ctr("run", "--rm", "--net-host", "--label", "io.kubernetes.pod.name=resolver-6f9d",
                             "--label", "io.kubernetes.pod.namespace=infra",
                             "--label", "io.kubernetes.container.name=lookup", "--rootfs", rootfs, container_id,
                             "/bin/nslookup", query, NSD_ADDRESS, check=False)
        found = daemon.wait_for(by_name(query, DNS_TYPE="A"))
        tap.check(found, "a query from a containerd container is reported", run.stderr)
        if found:
            e = found[0]
            tap.equal(e.get("CONTAINER_RUNTIME"), "containerd", "containerd: CONTAINER_RUNTIME", e)
            tap.equal(e.get("CONTAINER_ID_FULL"), container_id, "containerd: the id from the cgroup")
            tap.equal(e.get("K8S_POD_NAME"), "resolver-6f9d", "containerd: K8S_POD_NAME over gRPC")
            tap.equal(e.get("K8S_NAMESPACE"), "infra", "containerd: K8S_NAMESPACE over gRPC")
            tap.equal(e.get("K8S_CONTAINER_NAME"), "lookup", "containerd: K8S_CONTAINER_NAME over gRPC")
            tap.check("IMAGE_NAME" not in e, "containerd: no IMAGE_NAME for a container made from a rootfs", e)

        # The same id in two containerd namespaces is two containers, one
        # right after the other: the second is not named by what containerd
        # said of the first (whose cgroup is still remembered).
        same_id = f"dnsvis-same-{uuid.uuid4().hex[:6]}"
        for ns in ("dnsvis-a", "dnsvis-b"):
            query = f"{ns}.wild.example.test"
            run = containerd.ctr("--namespace", ns, "run", "--rm", "--net-host", "--label",
                                 f"io.kubernetes.pod.name=pod-{ns}", "--rootfs", rootfs, same_id,
                                 "/bin/nslookup", query, NSD_ADDRESS, check=False)
            found = daemon.wait_for(by_name(query, DNS_TYPE="A"))
            tap.check(found, f"containerd namespace {ns}: the query is reported", run.stderr)
            if found:
                e = found[0]
                tap.equal((e.get("DNS_CGROUP"), e.get("K8S_POD_NAME")), (f"/{ns}/{same_id}", f"pod-{ns}"),
                          f"containerd namespace {ns}: its own container's labels, though another has its id", e)

        # ctr from an image: containerd knows which.
        container_id = f"dnsvis-ctr-{uuid.uuid4().hex[:6]}"
        query = "containerd-image.wild.example.test"
        run = containerd.ctr("run", "--rm", "--net-host", "--label", "io.kubernetes.pod.name=img-1",
                             CONTAINERD_IMAGE, container_id, "/bin/sh", "-c",
                             f"/bin/nslookup {query} {NSD_ADDRESS}; /bin/sleep 1", check=False)
        found = daemon.wait_for(by_name(query, DNS_TYPE="A"))
        tap.check(found, "a query from a containerd container made from an image is reported", run.stderr)
        if found:
            e = found[0]
            tap.equal(e.get("CONTAINER_ID_FULL"), container_id, "containerd image: the id", e)
            tap.equal(e.get("IMAGE_NAME"), CONTAINERD_IMAGE, "containerd image: IMAGE_NAME over gRPC")
            tap.equal(e.get("K8S_POD_NAME"), "img-1", "containerd image: K8S_POD_NAME over gRPC")
        # gRPC's threads start with the containerd client: after the drop.
        tap.equal(threads_holding_more(daemon.process.pid, 1 << CAP_SYS_PTRACE), [],
                  "with the containerd client's threads running, no thread holds more than CAP_SYS_PTRACE")
        # A Kubernetes pod container under the kubelet's cgroupfs driver:
        # "/kubepods/<qos>/pod<uid>/<64 hex id>" does not say which
        # runtime made it, so dnsvisd asks the CRI runtime it has
        # (containerd, namespace k8s.io), as it would on such a node.
        pod_uid = str(uuid.uuid4())
        pod_container = uuid.uuid4().hex + uuid.uuid4().hex
        query = "kubepods.wild.example.test"
        run = containerd.ctr("--namespace", "k8s.io", "run", "--rm", "--net-host",
                             "--cgroup", f"/kubepods/besteffort/pod{pod_uid}/{pod_container}",
                             "--label", "io.kubernetes.pod.name=api-5c8d", "--label",
                             "io.kubernetes.pod.namespace=payments", "--label",
                             "io.kubernetes.container.name=api", "--rootfs", rootfs, pod_container,
                             "/bin/sh", "-c", f"/bin/nslookup {query} {NSD_ADDRESS}; /bin/sleep 1", check=False)
        found = daemon.wait_for(by_name(query, DNS_TYPE="A"))
        tap.check(found, "a query from a pod container (kubelet cgroupfs driver) is reported", run.stderr)
        if found:
            e = found[0]
            tap.equal(e.get("CONTAINER_ID_FULL"), pod_container, "kubepods: the id from the cgroup", e)
            tap.equal(e.get("K8S_POD_UID"), pod_uid, "kubepods: K8S_POD_UID from the cgroup")
            tap.equal(e.get("K8S_POD_NAME"), "api-5c8d", "kubepods: K8S_POD_NAME from containerd's k8s.io namespace")
            tap.equal(e.get("K8S_NAMESPACE"), "payments", "kubepods: K8S_NAMESPACE from containerd")
            tap.equal(e.get("K8S_CONTAINER_NAME"), "api", "kubepods: K8S_CONTAINER_NAME from containerd")
            tap.equal(e.get("CONTAINER_RUNTIME"), "containerd", "kubepods: CONTAINER_RUNTIME, the runtime that answered")
        tap.check("does not answer" not in daemon.stderr(), "containerd answered every lookup",
                  daemon.stderr()[-2000:])
        check_layouts_docker_shares(tap, daemon, dockerd)

        # Exited containers are forgotten once no transaction from them can
        # still be waiting: Timeout= 1 s + MetadataWait= 1 s + 5 s.
        exited = [quick_id, container_id]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not all(
                f"Container {c} has exited" in daemon.stderr() for c in exited if c):
            time.sleep(0.5)
        for c in exited:
            tap.check(c and f"Container {c} has exited" in daemon.stderr(),
                      f"the metadata of exited container {c} is dropped")

        # The host itself is not a container.
        subprocess.run(["dig", "+tries=1", f"@{NSD_ADDRESS}", "host.example.test"], capture_output=True)
        found = daemon.wait_for(by_name("host.example.test", DNS_COMM="dig"))
        tap.check(found and not any(k in found[0] for k in CONTAINER_FIELDS),
                  "a query from the host carries no container field", found)

        if containerd:
            # A containerd that is not there: one notice at start, and its
            # containers still get runtime and id from their cgroup.
            daemon.stop()
            daemon = Dnsvisd(work, f"[Containers]\nDockerSocket=no\nPodmanSocket=no\nCrioSocket=no\n"
                                   f"ContainerdSocket={work}/absent/containerd.sock\n")
            for n in range(2):
                containerd.ctr("run", "--rm", "--net-host", "--rootfs", rootfs, f"dnsvis-absent-{n}", "/bin/sh", "-c",
                               f"/bin/nslookup absent{n}.wild.example.test {NSD_ADDRESS}; /bin/sleep 1", check=False)
            found = daemon.wait_for(by_name("absent1.wild.example.test", DNS_TYPE="A"))
            tap.check(found and found[0].get("CONTAINER_RUNTIME") == "containerd"
                      and found[0].get("CONTAINER_ID_FULL") == "dnsvis-absent-1",
                      "without containerd's socket: runtime and id from the cgroup", found)
            notices = [line for line in daemon.stderr().splitlines() if "containerd" in line]
            tap.check(len(notices) == 1 and "No containerd socket" in notices[0],
                      "without containerd's socket: one notice, not one per container", notices)
    finally:
        if daemon:
            daemon.stop()
        if nsd:
            nsd.stop()
        if containerd:
            containerd.stop()
        dockerd.stop()
        shutil.rmtree(work, ignore_errors=True)
    tap.finish()


if __name__ == "__main__":
    main()
