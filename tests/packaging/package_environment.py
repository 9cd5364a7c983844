"""The environment a package build runs in from a test: the caller's, less
what configures the build under test (its compilers, flags and sanitizer
options), so the package is built with its own, as a packager's machine
would build it."""
import os

TEST_BUILD_VARIABLES = ("CC", "CXX", "CFLAGS", "CXXFLAGS", "LDFLAGS", "ASAN_OPTIONS", "UBSAN_OPTIONS",
                        "MESON_TEST_ITERATION")


def package_build_environment(**extra):
    env = {key: value for key, value in os.environ.items() if key not in TEST_BUILD_VARIABLES}
    env.update(extra)
    return env
