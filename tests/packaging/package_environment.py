"""What the package tests share: the environment a package build runs in
from a test (the caller's, less what configures the build under test, its
compilers, flags and sanitizer options, so the package is built with its
own, as a packager's machine would build it), and the version the package
must carry."""
import json
import os
import subprocess

TEST_BUILD_VARIABLES = ("CC", "CXX", "CFLAGS", "CXXFLAGS", "LDFLAGS", "ASAN_OPTIONS", "UBSAN_OPTIONS",
                        "MESON_TEST_ITERATION")


def package_build_environment(**extra):
    env = {key: value for key, value in os.environ.items() if key not in TEST_BUILD_VARIABLES}
    env.update(extra)
    return env


def project_version(build_root):
    """The version meson's project() declares, as the configured build has it."""
    info = subprocess.run(["meson", "introspect", "--projectinfo", build_root], capture_output=True, text=True,
                          check=True).stdout
    return json.loads(info)["version"]
