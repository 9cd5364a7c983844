"""The Debian package of the source tree, built by packaging/build-deb once
per state of the sources and shared by the tests that need it (the package
check, the e2e test and the guest-kernel test, which runs e2e in its
guests). A lock keeps two tests from building at once."""
import fcntl
import glob
import hashlib
import os
import subprocess

from package_environment import package_build_environment


def source_fingerprint(source_root):
    """A hash of the name and content of every source file that goes into the package."""
    # A clone owned by another user than the tests' (root) is still ours to
    # list: without safe.directory, git refuses it as of dubious ownership.
    listing = subprocess.run(["git", "-c", "safe.directory=*", "-C", source_root, "ls-files", "-z", "--cached",
                              "--others", "--exclude-standard"], capture_output=True)
    if listing.returncode == 0:
        names = sorted(n for n in listing.stdout.decode().split("\0") if n)
    else:
        names = sorted(os.path.relpath(os.path.join(d, f), source_root)
                       for d, dirs, files in os.walk(source_root)
                       for f in files if not os.path.relpath(d, source_root).startswith(("build", "obj-", ".git")))
    # The test scripts are not part of the package: editing one, or Python
    # caching its bytecode, must not cost a package build.
    names = [n for n in names if not (n.endswith(".pyc") or (n.startswith("tests/") and n.endswith(".py")))]
    digest = hashlib.sha256()
    for name in names:
        path = os.path.join(source_root, name)
        if not os.path.isfile(path):
            continue  # deleted but still in the index
        digest.update(name.encode() + b"\0")
        with open(path, "rb") as f:
            digest.update(hashlib.sha256(f.read()).digest())
    return digest.hexdigest()


def built_deb(source_root, build_root, log):
    """Path of dnsvis_*.deb for the current sources, building it if needed.
    Raises RuntimeError with the build's output when the build fails."""
    out = os.path.join(build_root, "packaging", "test-deb")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        fingerprint = source_fingerprint(source_root)
        stamp = os.path.join(out, "fingerprint")
        debs = [d for d in glob.glob(os.path.join(out, "dnsvis_*.deb"))]
        if debs and os.path.exists(stamp) and open(stamp).read() == fingerprint:
            log(f"reusing {debs[0]} (sources unchanged)")
            return debs[0]
        for old in glob.glob(os.path.join(out, "*.deb")) + glob.glob(os.path.join(out, "fingerprint")):
            os.unlink(old)
        log("building the Debian package (packaging/build-deb)")
        # The unit tests ran in this build already.
        env = package_build_environment(DEB_BUILD_OPTIONS=f"nocheck parallel={os.cpu_count() or 1}")
        build = subprocess.run([os.path.join(source_root, "packaging", "build-deb"), out], env=env,
                               capture_output=True, text=True)
        if build.returncode != 0:
            raise RuntimeError("packaging/build-deb failed:\n" + (build.stdout + build.stderr)[-4000:])
        debs = glob.glob(os.path.join(out, "dnsvis_*.deb"))
        if len(debs) != 1:
            raise RuntimeError(f"packaging/build-deb left {debs} in {out}")
        with open(stamp, "w") as f:
            f.write(fingerprint)
        return debs[0]
