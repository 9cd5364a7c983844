"""A real systemd booted in a container over an overlay of the root file
system, with its own system bus and journald (systemd-nspawn --boot).
The build tree is visible inside at the same path, since / is the lower dir.
"""
import json
import os
import subprocess
import tempfile
import time

from dnsvis_testlib import patience, skip


def boot_systemd(bind_read_only=()):
    """A booted systemd in a container, or the test skips (exit 77) when this
    machine lacks what one needs: systemd or overlayfs.
    Anything else that keeps it from booting (a timeout, a crash) fails the
    test: it would hide every check behind a skip."""
    if not os.path.exists("/usr/lib/systemd/systemd"):
        skip("systemd is not installed, so no container can boot it")
    subprocess.run(["modprobe", "-q", "overlay"], capture_output=True)  # built in on most kernels
    with open("/proc/filesystems") as filesystems:
        if not any(line.split()[-1] == "overlay" for line in filesystems if line.strip()):
            skip("the kernel has no overlayfs, which the container's root is made of")
    return BootedSystemd(bind_read_only)


class BootedSystemd:
    def __init__(self, bind_read_only=()):
        """`bind_read_only`: host directories to show inside at the same path.
        The overlay shows most of the host, but not /tmp, which nspawn
        replaces with a fresh tmpfs; a build tree may well live there."""
        self.base = tempfile.mkdtemp(prefix="dnsvis-nspawn-", dir="/var/tmp")
        self.root = os.path.join(self.base, "root")
        for d in ("up", "work", "root"):
            os.makedirs(os.path.join(self.base, d))
        subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                        f"lowerdir=/,upperdir={self.base}/up,workdir={self.base}/work", self.root], check=True)
        # A container must not inherit the host's machine id or a stale journal.
        for path in ("etc/machine-id",):
            full = os.path.join(self.root, path)
            if os.path.exists(full):
                os.unlink(full)
        # Its own network namespace, and only basic.target: the host image
        # may enable servers (dnsmasq, nsd, databases) that must not start
        # next to the test's own, or on the host's addresses.
        self.nspawn = subprocess.Popen(
            ["systemd-nspawn", "--register=no", "--keep-unit", "-q", "-D", self.root, "--capability=all",
             "--system-call-filter=bpf perf_event_open", "--private-network",
             *[f"--bind-ro={path}" for path in bind_read_only], "-b", "systemd.unit=basic.target"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.base, "nspawn.log"), "w"))
        try:
            self.pid = self._find_init()
            self._wait_for_boot(deadline=time.monotonic() + patience(120))
        except BaseException:
            self.stop()  # a container left running would load every later test
            raise

    def _wait_for_boot(self, deadline):
        # Until its bus is up, systemctl answers nothing; then it waits for boot.
        state = ""
        while time.monotonic() < deadline:
            state = self.run("systemctl", "is-system-running", "--wait", check=False,
                             timeout=max(1.0, deadline - time.monotonic())).stdout.strip()
            if state in ("running", "degraded"):
                return
            time.sleep(0.5)
        raise RuntimeError(f"the container's systemd is {state!r}")

    def _find_init(self, timeout=60):
        deadline = time.monotonic() + patience(timeout)
        while time.monotonic() < deadline:
            if self.nspawn.poll() is not None:
                raise RuntimeError("systemd-nspawn exited: " + open(os.path.join(self.base, "nspawn.log")).read())
            for pid in self._descendants(self.nspawn.pid):
                try:
                    exe = os.readlink(f"/proc/{pid}/exe")
                except OSError:
                    continue
                if exe.endswith("/systemd") and open(f"/proc/{pid}/cmdline").read().startswith("/"):
                    return pid
            time.sleep(0.2)
        raise RuntimeError("no systemd inside the container")

    @staticmethod
    def _descendants(root):
        children = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    ppid = int(open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                children.setdefault(ppid, []).append(int(entry))
        out, todo = [], [root]
        while todo:
            for child in children.get(todo.pop(), []):
                out.append(child)
                todo.append(child)
        return out

    def run(self, *command, check=True, timeout=None, **kwargs):
        """Runs a command inside the container (all its namespaces); by
        default for up to a minute, stretched by patience()."""
        return subprocess.run(["nsenter", "-t", str(self.pid), "-a", *command], capture_output=True, text=True,
                              check=check, timeout=patience(60) if timeout is None else timeout, **kwargs)

    def stop(self):
        if self.nspawn.poll() is None:
            self.nspawn.terminate()
            try:
                self.nspawn.wait(60)
            except subprocess.TimeoutExpired:
                self.nspawn.kill()
                self.nspawn.wait(10)
        subprocess.run(["umount", "-l", self.root], check=False)
        subprocess.run(["rm", "-rf", self.base], check=False)


def journal(container, *matches):
    """The journal entries of the booted system that match, as dicts."""
    out = container.run("journalctl", "--no-pager", "-o", "json", *matches, check=False).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def wait_journal(container, *matches, timeout=15):
    """journal(), polled until something matches or `timeout` seconds pass."""
    deadline = time.monotonic() + patience(timeout)
    while True:
        found = journal(container, *matches)
        if found or time.monotonic() >= deadline:
            return found
        time.sleep(0.3)
