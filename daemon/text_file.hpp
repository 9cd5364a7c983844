// Whole small text files from /proc (mountinfo, PID/cgroup).
#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace dnsvis {

// The file's contents, or an empty string when it cannot be read (a process
// that has exited has no /proc entry left: for the callers that means
// "unknown", not an error).
inline std::string read_text_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace dnsvis
