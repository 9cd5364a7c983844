// What is left of a buffer of whole lines after a write stopped part way:
// the rest of a line whose start went out, which must be finished before
// anything else (a reader would see it run into the next line), and the
// whole lines after it, which are lost. The JSON sink (pipes) and the file
// writer both cut their output this way.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dnsvis {

struct UnwrittenLines {
    size_t begun_rest = 0;   // bytes at the cut that finish a line begun before it
    uint64_t lost_lines = 0;  // whole lines after those, never begun
};

// `text` holds whole lines, of which the first `written` bytes went out.
// `begun_before`: whether the line at `text`'s start had its start out
// already, which counts when nothing of `text` went out.
inline UnwrittenLines unwritten_lines(std::string_view text, size_t written, bool begun_before) {
    UnwrittenLines rest;
    const bool line_begun = written > 0 ? text[written - 1] != '\n' : begun_before;
    if (written < text.size() && line_begun) {
        const size_t end = text.find('\n', written);
        assert(end != std::string_view::npos);  // only whole lines are written out
        rest.begun_rest = (end == std::string_view::npos ? text.size() : end + 1) - written;
    }
    const std::string_view never_begun = text.substr(std::min(text.size(), written + rest.begun_rest));
    rest.lost_lines = static_cast<uint64_t>(std::count(never_begun.begin(), never_begun.end(), '\n'));
    return rest;
}

}  // namespace dnsvis
