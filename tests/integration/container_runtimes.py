"""Container runtimes for the tests and the benchmark: a private dockerd and
containerd (their own sockets and roots, nothing shared with the host's),
and root file systems made from host binaries, since no image can be pulled.
"""
import os
import shutil
import subprocess
import time


def rootfs_with(work, name, binaries, links=()):
    """A root file system holding `binaries` and the shared libraries they load."""
    root = os.path.join(work, name)
    for binary in binaries:
        needed = [binary]
        ldd = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
        for line in ldd.splitlines():
            parts = line.split()
            path = parts[2] if "=>" in parts and len(parts) > 2 else parts[0]
            if path.startswith("/"):
                needed.append(path)
        for path in needed:
            target = root + path
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(os.path.realpath(path), target)
    for link, target in links:
        os.symlink(target, root + link)
    return root


def unmount_below(path):
    """Unmounts every mount point under `path`, deepest first: runtimes leave
    some behind (dockerd's netns bind mount) when they stop."""
    points = []
    with open("/proc/self/mountinfo") as mountinfo:
        for line in mountinfo:
            point = line.split()[4]
            if point.startswith(path.rstrip("/") + "/"):
                points.append(point)
    for point in sorted(points, key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)


def busybox_rootfs(work):
    return rootfs_with(work, "rootfs", ["/bin/busybox"],
                       [(f"/bin/{tool}", "busybox") for tool in ("sh", "nslookup", "sleep")])


def docker_import(dockerd, rootfs, image):
    tar = subprocess.Popen(["tar", "-C", rootfs, "-c", "."], stdout=subprocess.PIPE)
    subprocess.run(["docker", "import", "-", image], stdin=tar.stdout, env=dockerd.env, check=True,
                   capture_output=True)
    tar.wait()


class Dockerd:
    """A private dockerd: its own socket, data and exec roots."""

    def __init__(self, work):
        self.base = os.path.join(work, "docker")
        os.makedirs(self.base)
        self.socket = os.path.join(self.base, "docker.sock")
        self.env = dict(os.environ, DOCKER_HOST=f"unix://{self.socket}")
        self.process = subprocess.Popen(
            ["dockerd", "--iptables=false", "--bridge=none", f"--data-root={self.base}/data",
             f"--exec-root={self.base}/exec", f"--host=unix://{self.socket}", f"--pidfile={self.base}/docker.pid"],
            stdout=open(os.path.join(self.base, "dockerd.log"), "w"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.docker("version", check=False).returncode == 0:
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.5)
        self.stop()
        raise RuntimeError("dockerd did not start: " + open(os.path.join(self.base, "dockerd.log")).read()[-2000:])

    def docker(self, *args, check=True):
        return subprocess.run(["docker", *args], env=self.env, capture_output=True, text=True, check=check,
                              timeout=120)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
        unmount_below(self.base)


class Containerd:
    def __init__(self, work):
        self.base = os.path.join(work, "containerd")
        os.makedirs(self.base)
        self.socket = os.path.join(self.base, "containerd.sock")
        self.process = subprocess.Popen(
            ["containerd", "--address", self.socket, "--root", f"{self.base}/root", "--state", f"{self.base}/state"],
            stdout=open(os.path.join(self.base, "containerd.log"), "w"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.ctr("version", check=False).returncode == 0:
                return
            time.sleep(0.3)
        self.stop()
        raise RuntimeError("containerd did not start")

    def ctr(self, *args, check=True):
        return subprocess.run(["ctr", "--address", self.socket, *args], capture_output=True, text=True, check=check,
                              timeout=120)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        unmount_below(self.base)
