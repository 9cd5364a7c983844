"""NSD serving example.test inside a booted container (the host's nsd
binary, seen through the overlay), run as a transient service."""
import time

from dnsvis_testlib import NSD_ADDRESS, write_nsd_config


def start_container_nsd(container, directory, unit, timeout=15):
    """Writes the zone and config to `directory` (a path inside the
    container), starts NSD as `unit`, and waits until it answers. Returns
    an error text, or None once it answers."""
    write_nsd_config(container.root + directory, addresses=(NSD_ADDRESS,), seen_as=directory)
    container.run("systemd-run", f"--unit={unit}", "-p", "Type=simple", "nsd", "-d", "-c", f"{directory}/nsd.conf")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        probe = container.run("dig", "+short", "+tries=1", "+time=1", f"@{NSD_ADDRESS}", "ns1.example.test",
                              check=False)
        if probe.stdout.strip() == "192.0.2.1":
            return None
        time.sleep(0.3)
    return "NSD does not answer inside the container: " + container.run(
        "journalctl", "--no-pager", "-u", unit, check=False).stdout[-2000:]
