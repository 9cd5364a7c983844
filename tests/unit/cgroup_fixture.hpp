// Reading tests/unit/fixtures/cgroup-paths.txt, shared by the cgroup tests.
#pragma once

#include <string>
#include <vector>

namespace dnsvis::test {

// meson cannot be told about the fixture, so it is found next to this
// header; __FILE__ is relative to the build directory, which is also where
// meson runs the tests.
inline std::string cgroup_fixture_path() {
    std::string file = __FILE__;
    size_t slash = file.rfind('/');
    std::string dir = slash == std::string::npos ? "." : file.substr(0, slash);
    return dir + "/fixtures/cgroup-paths.txt";
}

inline std::vector<std::string> split_tabs(const std::string& line) {
    std::vector<std::string> columns;
    size_t start = 0;
    for (;;) {
        size_t tab = line.find('\t', start);
        columns.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
        if (tab == std::string::npos)
            break;
        start = tab + 1;
    }
    return columns;
}

}  // namespace dnsvis::test
