#!/usr/bin/env python3
"""Exec benchmark: what dnsvisd's exec and fork programs cost the host's
process creation. They run on every fork and exec on the machine (to name
clients that exit before their query is handled), so a shell loop that runs
/bin/true over and over is timed without and with dnsvisd, in alternating
windows of the same run; each dnsvisd window is set against the mean of the
baseline windows just before and after it, so the VM's drift cancels.
Reports the median and range over rounds of the spawn rate with dnsvisd /
without, and the kernel's own time per run of dnsvis_exec and dnsvis_fork
(kernel.bpf_stats_enabled).

Run as root: tests/bench/exec_bench.py [--dnsvisd PATH] [--rounds N] [--spawns N]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from capture_bench import BpfRunTime, CountingDaemon, median, spread  # noqa: E402


def spawn_rate(spawns):
    """Processes forked and exec'd per second by a shell loop."""
    loop = f"n=0; while [ $n -lt {spawns} ]; do /bin/true; n=$((n+1)); done"
    start = time.perf_counter()
    subprocess.run(["sh", "-c", loop], check=True)
    return spawns / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dnsvisd", default="build-release/daemon/dnsvisd")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--spawns", type=int, default=3000, help="processes per window")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("SKIP: the benchmark needs root: dnsvisd loads BPF programs")
        sys.exit(77)
    if BpfRunTime.loaded_programs():
        sys.exit("dnsvis programs are loaded already (is dnsvis.service running?): stop it first, "
                 "or its programs would be timed and slow the baseline")
    work = tempfile.mkdtemp(prefix="dnsvis-exec-bench-")
    try:
        spawn_rate(args.spawns)  # warm the caches, unmeasured
        before = spawn_rate(args.spawns)
        ratios, kernel = [], {}
        for _ in range(args.rounds):
            daemon = CountingDaemon(args.dnsvisd, work)
            try:
                stats = BpfRunTime()
                try:
                    with_dnsvisd = spawn_rate(args.spawns)
                    end = stats.sample() if stats.available else {}
                finally:
                    stats.restore()
            finally:
                daemon.stop()
            after = spawn_rate(args.spawns)
            ratios.append(with_dnsvisd / ((before + after) / 2))
            before = after
            # Summed over the rounds: each dnsvisd loads its programs afresh.
            for name in BpfRunTime.PROCESS_PROGRAMS:
                if name in end:
                    start = stats.start.get(name, (0, 0))
                    total = kernel.get(name, (0, 0))
                    kernel[name] = (total[0] + end[name][0] - start[0], total[1] + end[name][1] - start[1])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"spawn rate with dnsvisd / without: median {median(ratios):.3f} ({spread(ratios)}, {args.rounds} rounds "
          f"of {args.spawns} fork+exec; baseline {before:.0f}/s)")
    print("rounds: " + " ".join(f"{ratio:.3f}" for ratio in ratios))
    if kernel:
        print("kernel time per run: " + ", ".join(f"{name} {time_ns / max(1, runs):.0f} ns ({runs} runs)"
                                                   for name, (time_ns, runs) in sorted(kernel.items())))
    else:
        print("kernel time per run not measured (no bpf_stats_enabled, bpftool, or exec programs)")


if __name__ == "__main__":
    main()
