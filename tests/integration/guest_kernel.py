"""Runs commands under another kernel: the machine's own root file system,
booted under qemu (emulated; KVM on request, see accelerator()) with one of
Debian's kernels, so the BPF programs meet that kernel's verifier and
helpers for real.

The kernel comes unpacked from Debian's package into GUEST_KERNELS
(tools/dev does that), or from /boot. The guest mounts the host's /
read-only over 9p, with a tmpfs overlay on top, so it sees the build tree,
NSD, dig and python3 at the same paths and writes nothing back. A small
initramfs (static busybox, the modules that reach the root, an /init of our
own) gets it there. The guest's commands write to a second serial port, a
file on the host; its kernel log goes to the first, kept for failures.
"""
import argparse
import ctypes
import gzip
import lzma
import os
import re
import shutil
import subprocess
import sys
import tempfile

from dnsvis_testlib import WITHOUT_KERNEL_READS

# What the initramfs must load to mount the root: virtio's PCI transport,
# 9p over it, and overlayfs. Dependencies come from the kernel's modules.dep.
ROOT_MODULES = ("virtio_pci", "9pnet_virtio", "9p", "overlay")
STATIC_BUSYBOX = "/bin/busybox"
# One directory per kernel release, each a package unpacked (boot/, lib/).
GUEST_KERNELS = os.environ.get("DNSVIS_GUEST_KERNELS", "/var/cache/dnsvis/guest-kernel")


class Kernel:
    """A kernel image and its modules, under `root` ("/" for /boot)."""

    def __init__(self, release, root):
        self.release = release
        self.root = root
        self.image = os.path.join(root, "boot", f"vmlinuz-{release}")
        self.modules = os.path.join(root, "lib", "modules", release)


def accelerator():
    """Software emulation unless DNSVIS_GUEST_ACCEL=kvm: on these machines
    /dev/kvm opens, but a guest hangs as it enters long mode (nested under
    Firecracker), and a hang cannot be told from a slow boot but by waiting."""
    if os.environ.get("DNSVIS_GUEST_ACCEL") == "kvm":
        return ["-accel", "kvm", "-cpu", "host"]
    return ["-accel", "tcg,thread=multi", "-cpu", "max"]


def running_kernel():
    return os.uname().release


def other_kernels():
    """Kernels with their modules (and modules.dep) other than the running
    one, unpacked ones first, then /boot's, newest version first in each."""
    def version_key(kernel):
        return [int(p) if p.isdigit() else p for p in re.split(r"[.-]", kernel.release)]
    found = []
    for roots in ([os.path.join(GUEST_KERNELS, d) for d in os.listdir(GUEST_KERNELS)]
                  if os.path.isdir(GUEST_KERNELS) else [], ["/"]):
        group = []
        for root in roots:
            boot = os.path.join(root, "boot")
            for name in os.listdir(boot) if os.path.isdir(boot) else []:
                match = re.fullmatch(r"vmlinuz-(.+)", name)
                if not match or match.group(1) == running_kernel():
                    continue
                kernel = Kernel(match.group(1), root)
                if os.path.exists(os.path.join(kernel.modules, "modules.dep")):
                    group.append(kernel)
        found += sorted(group, key=version_key, reverse=True)
    return found


def missing_parts():
    """Why a guest cannot boot here, or None."""
    if not shutil.which("qemu-system-x86_64"):
        return "qemu-system-x86_64 is not installed (Debian qemu-system-x86)"
    if not os.path.exists(STATIC_BUSYBOX) or b"statically linked" not in subprocess.run(
            ["file", "-L", STATIC_BUSYBOX], capture_output=True).stdout:
        return f"{STATIC_BUSYBOX} is not a static busybox (Debian busybox-static)"
    if not other_kernels():
        return f"no kernel other than the running one in {GUEST_KERNELS} or /boot (tools/dev deps unpacks one)"
    return None


def module_name(path):
    return re.sub(r"\.ko(\.\w+)?$", "", os.path.basename(path)).replace("-", "_")


def module_closure(kernel, names):
    """Module files to load for `names`, dependencies first; a module built
    into the kernel (6.12 has virtio_pci so) needs none."""
    base = kernel.modules
    depends = {}
    with open(f"{base}/modules.dep") as table:
        for line in table:
            module, _, needs = line.partition(":")
            depends[module] = needs.split()
    builtin = set()
    if os.path.exists(f"{base}/modules.builtin"):
        builtin = {module_name(line.strip()) for line in open(f"{base}/modules.builtin")}
    names = [name for name in names if name not in builtin]
    by_name = {module_name(m): m for m in depends}
    ordered = []

    def visit(module):
        if module in ordered:
            return
        for need in depends[module]:
            visit(need)
        ordered.append(module)
    for name in names:
        if name not in by_name:
            raise RuntimeError(f"kernel {kernel.release} has no module {name} (built in?)")
        visit(by_name[name])
    return [f"{base}/{m}" for m in ordered]


def module_bytes(path):
    """A module as insmod takes it: Debian compresses 6.12's with xz."""
    data = open(path, "rb").read()
    if path.endswith(".xz"):
        return lzma.decompress(data)
    if path.endswith(".gz"):
        return gzip.decompress(data)
    if not path.endswith(".ko"):
        raise RuntimeError(f"cannot decompress {path}")
    return data


INIT = """#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /lower /upper /newroot
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t devtmpfs dev /dev
for module in {modules}; do /bin/busybox insmod "$module" || echo "insmod $module failed"; done
/bin/busybox mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot /lower || exec /bin/busybox poweroff -f
/bin/busybox mount -t tmpfs -o size=75% upper /upper
/bin/busybox mkdir -p /upper/data /upper/work
/bin/busybox mount -t overlay overlay -o lowerdir=/lower,upperdir=/upper/data,workdir=/upper/work /newroot \
    || exec /bin/busybox poweroff -f
/bin/busybox cp /stage2 /newroot/dnsvis-guest-stage2
/bin/busybox umount /proc
/bin/busybox umount /dev
exec /bin/busybox switch_root /newroot /bin/sh /dnsvis-guest-stage2
"""

# The guest's PID 1 after switch_root: the mounts a booted system would
# have, loopback up, then the commands, each one's output and exit status
# on the second serial port. Power goes off through sysrq, which needs no
# init system.
STAGE2 = """set -u
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
# /run holds the host's sockets and pid files, nothing of the guest's. /tmp
# stays as the overlay has it: the tree under test may be there (a CI
# clone), and what the guest writes lands in the overlay's memory anyway.
mount -t tmpfs tmpfs /run
# A booted systemd in a container (the e2e test) lays an overlay over /
# with its upper directory under /var/tmp, which overlayfs refuses on the
# overlay / is here; on a tmpfs it takes it.
mount -t tmpfs tmpfs /var/tmp
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t bpf bpf /sys/fs/bpf
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
{modules}ip link set lo up
# An address beside loopback's: getaddrinfo() with AI_ADDRCONFIG, as getent
# ahosts asks, finds no name at all on a machine with loopback alone.
ip link add dnsvis0 type dummy && ip link set dnsvis0 up
ip address add 198.51.100.1/24 dev dnsvis0
ip address add 2001:db8:5::1/64 dev dnsvis0 nodad
hostname dnsvis-guest
exec 3>/dev/ttyS1
{exports}
cd {cwd}
{commands}
echo 'GUEST DONE' >&3
sync
echo o > /proc/sysrq-trigger
sleep 30
"""


def write_newc(entries, path):
    """A gzip'd cpio archive in the kernel's "newc" form from (name, mode,
    data) entries; a directory has data None."""
    out = bytearray()
    for inode, (name, mode, data) in enumerate(entries + [("TRAILER!!!", 0, b"")], start=1):
        body = data or b""
        encoded = name.encode() + b"\0"
        header = "070701" + "".join(f"{v:08x}" for v in (
            inode, mode, 0, 0, 1, 0, len(body), 0, 0, 0, 0, len(encoded), 0))
        out += header.encode() + encoded
        out += b"\0" * (-len(out) % 4)
        out += body
        out += b"\0" * (-len(out) % 4)
    with gzip.open(path, "wb", compresslevel=1) as archive:
        archive.write(bytes(out))


class GuestTimeout(RuntimeError):
    """The guest ran out of time: booting it again would take as long."""


def shell_quote(text):
    return "'" + text.replace("'", "'\\''") + "'"


class GuestRun:
    """One boot of `kernel` that runs `commands` (argument lists) in turn
    with `environment`, in `cwd`. result() gives each command's output and
    exit status, or raises with the guest's console when it did not finish."""

    def __init__(self, kernel, commands, environment, cwd, memory_mib=2048, timeout=1500):
        self.kernel = kernel
        self.dir = tempfile.mkdtemp(prefix="dnsvis-guest-")
        modules = module_closure(kernel, ROOT_MODULES)
        entries = [("bin", 0o40755, None), ("lib", 0o40755, None),
                   ("bin/busybox", 0o100755, open(STATIC_BUSYBOX, "rb").read())]
        for module in modules:
            entries.append((f"lib/{module_name(module)}.ko", 0o100644, module_bytes(module)))
        entries.append(("init", 0o100755, INIT.format(
            modules=" ".join(f"/lib/{module_name(m)}.ko" for m in modules)).encode()))
        exports = "\n".join(f"export {k}={shell_quote(v)}" for k, v in sorted(environment.items()))
        lines = []
        for index, command in enumerate(commands):
            quoted = " ".join(shell_quote(part) for part in command)
            # What a failed command left running (a server holding a port)
            # goes before the next: PID 1's kill -1 reaches every other process.
            # The memory left after each command goes to the output too: the
            # guest has no swap, and a tail that shows it running out says
            # why a guest powered off early.
            lines.append(f"echo 'GUEST BEGIN {index}' >&3\n{quoted} </dev/null >&3 2>&1\n"
                         f"echo \"GUEST END {index} $?\" >&3\nkill -9 -1 2>/dev/null; sleep 0.5\n"
                         f"free -m | sed 's/^/# memory after command {index}: /' >&3")
        # An unpacked kernel's modules, where modprobe looks for them.
        target = f"/lib/modules/{kernel.release}"
        mount_modules = "" if kernel.modules == target else (
            f"mkdir -p {target} && mount --bind {shell_quote(kernel.modules)} {target}\n")
        entries.append(("stage2", 0o100644, STAGE2.format(
            modules=mount_modules, exports=exports, cwd=shell_quote(cwd), commands="\n".join(lines)).encode()))
        self.initramfs = os.path.join(self.dir, "initramfs.gz")
        write_newc(entries, self.initramfs)
        self.output = os.path.join(self.dir, "output")
        self.console = os.path.join(self.dir, "console")
        self.commands = commands
        self.timeout = timeout
        self.memory_mib = memory_mib

    def run(self):
        arguments = [
            "qemu-system-x86_64", *accelerator(), "-smp", "2", "-m", str(self.memory_mib),
            "-nodefaults", "-display", "none", "-no-reboot",
            "-kernel", self.kernel.image, "-initrd", self.initramfs,
            "-append", "console=ttyS0 panic=-1 loglevel=4",
            "-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap",
            "-device", "virtio-rng-pci",
            "-serial", f"file:{self.console}", "-serial", f"file:{self.output}",
        ]
        try:
            subprocess.run(arguments, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=self.timeout, check=True)
        except subprocess.TimeoutExpired:
            raise GuestTimeout(f"the guest did not power off in {self.timeout} s\n{self.tail()}")
        except subprocess.CalledProcessError as error:
            raise RuntimeError(f"qemu failed: {error.stderr.decode(errors='replace')}\n{self.tail()}")
        return self.result()

    def tail(self, lines=40):
        parts = []
        for label, path in (("console", self.console), ("output", self.output)):
            if os.path.exists(path):
                text = open(path, errors="replace").read().splitlines()
                parts.append(f"--- guest {label} (last {lines} lines)\n" + "\n".join(text[-lines:]))
        return "\n".join(parts)

    def result(self):
        """[(output, exit status)] per command, in order."""
        text = open(self.output, errors="replace").read() if os.path.exists(self.output) else ""
        results = []
        for index in range(len(self.commands)):
            match = re.search(rf"GUEST BEGIN {index}\r?\n(.*?)GUEST END {index} (\d+)", text, re.S)
            if not match:
                raise RuntimeError(f"the guest did not finish command {index}\n{self.tail()}")
            results.append((match.group(1).replace("\r\n", "\n"), int(match.group(2))))
        return results

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


# Inside the guest: one integration test, with dnsvisd run as root with
# every capability, or with the capabilities the installed unit leaves it
# (how a Debian 12 host with the package runs it), or without reading kernel
# memory (no CAP_PERFMON or CAP_SYS_ADMIN), which on a kernel like 6.1 leaves
# only the sendmsg programs to name UDP senders.
PRIVILEGES = ("root", "unit", "no-kernel-reads")


def unit_bounding_set():
    """The unit's CapabilityBoundingSet= as setpriv's --bounding-set, read
    from the unit itself so the test follows it."""
    with open(os.path.join(os.environ["DNSVIS_SOURCE_ROOT"], "units", "dnsvis.service.in")) as unit:
        for line in unit:
            if line.startswith("CapabilityBoundingSet="):
                names = line.split("=", 1)[1].split()
                return "-all," + ",".join("+" + name.lower().removeprefix("cap_") for name in names)
    raise RuntimeError("the unit sets no CapabilityBoundingSet=")


BPF_PROG_TYPE_CGROUP_SKB = 8
CURRENT_HELPERS = (14, 15, 16)  # BPF_FUNC_get_current_pid_tgid, _uid_gid, _comm


def skb_programs_have_current_helpers():
    """What dnsvisd probes: whether a cgroup_skb program may ask who the
    current process is."""
    probe = ctypes.CDLL("libbpf.so.1").libbpf_probe_bpf_helper
    probe.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_void_p]
    return all(probe(BPF_PROG_TYPE_CGROUP_SKB, helper, None) == 1 for helper in CURRENT_HELPERS)


def run_inside(script, privileges):
    environment = dict(os.environ)
    if privileges != "root":
        bounding_set = unit_bounding_set() if privileges == "unit" else WITHOUT_KERNEL_READS
        wrapper = os.path.join(tempfile.mkdtemp(prefix="dnsvis-caps-"), "dnsvisd")
        with open(wrapper, "w") as out:
            out.write(f'#!/bin/sh\nexec setpriv --bounding-set={bounding_set} {shell_quote(os.environ["DNSVISD"])} "$@"\n')
        os.chmod(wrapper, 0o755)
        environment["DNSVISD"] = wrapper
    # Emulated, everything runs many times slower than the tests' limits
    # assume: waits are stretched (dnsvis_testlib.patience()).
    environment["DNSVIS_TIME_SCALE"] = "4"
    if privileges == "no-kernel-reads":
        environment["DNSVIS_EXPECT_PLAIN_PROGRAMS"] = "if-refused" if skb_programs_have_current_helpers() else "1"
        environment["DNSVIS_EXPECT_THREAD_NAMES"] = "1"
    os.execve(sys.executable, [sys.executable, script], environment)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="runs one integration test inside the guest")
    parser.add_argument("script")
    parser.add_argument("--privileges", choices=PRIVILEGES, default="root",
                        help="dnsvisd's capabilities: all, the installed unit's, or none to read kernel memory")
    arguments = parser.parse_args()
    run_inside(arguments.script, arguments.privileges)
