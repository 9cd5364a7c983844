#!/usr/bin/env python3
"""Prints meson's test results as one closing line: 'N passed, N failed, N skipped'.

Also lists every skipped test with the reason it printed, so a skip is never silent.
"""
import json
import sys


def main(path: str) -> int:
    passed = failed = skipped = 0
    skips = []
    with open(path) as log:
        for line in log:
            result = json.loads(line)
            status = result.get("result")
            if status == "OK":
                passed += 1
            elif status == "SKIP":
                skipped += 1
                reason = next((l for l in result.get("stdout", "").splitlines() if "skip" in l.lower()), "")
                skips.append(f"  {result['name']}: {reason.strip()}")
            elif status == "EXPECTEDFAIL":
                passed += 1
            else:
                failed += 1
    if skips:
        print("skipped tests:")
        print("\n".join(skips))
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
