#include "mountinfo.hpp"

#include <array>
#include <charconv>

namespace dnsvis {

namespace {

// The n-th (from 0) space-separated field of `line`, or empty.
std::string_view field(std::string_view line, int n) {
    for (; n > 0; --n) {
        const size_t space = line.find(' ');
        if (space == std::string_view::npos)
            return {};
        line.remove_prefix(space + 1);
    }
    return line.substr(0, line.find(' '));
}

// The kernel's mangle() escapes space, tab, newline and backslash as \ooo
// (octal); anything else with a backslash is left as it stands.
std::string unescape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 3 < text.size() &&  // three digits follow
            text[i + 1] >= '0' && text[i + 1] <= '3' && text[i + 2] >= '0' && text[i + 2] <= '7' &&
            text[i + 3] >= '0' && text[i + 3] <= '7') {
            out += static_cast<char>((text[i + 1] - '0') * 64 + (text[i + 2] - '0') * 8 + (text[i + 3] - '0'));
            i += 3;
        } else {
            out += text[i];
        }
    }
    return out;
}

}  // namespace

std::vector<Mount> parse_mountinfo(std::string_view mountinfo) {
    std::vector<Mount> mounts;
    while (!mountinfo.empty()) {
        const size_t end = mountinfo.find('\n');
        const std::string_view line = mountinfo.substr(0, end);
        mountinfo.remove_prefix(end == std::string_view::npos ? mountinfo.size() : end + 1);

        uint64_t id = 0;
        const auto [after_id, error] = std::from_chars(line.data(), line.data() + line.size(), id);
        if (error != std::errc{} || after_id == line.data() || after_id == line.data() + line.size() ||
            *after_id != ' ')
            continue;
        // The optional fields before the separator vary in number; the
        // separator itself cannot occur in the escaped fields.
        const size_t separator = line.find(" - ");
        const std::string_view device = field(line, 2);
        const std::string_view mount_point = field(line, 4);
        if (separator == std::string_view::npos || mount_point.empty() || mount_point.front() != '/')
            continue;
        const std::string_view type = field(line.substr(separator + 3), 0);
        uint32_t major = 0, minor = 0;
        const size_t colon = device.find(':');
        if (type.empty() || colon == std::string_view::npos ||
            std::from_chars(device.data(), device.data() + colon, major).ptr != device.data() + colon ||
            std::from_chars(device.data() + colon + 1, device.data() + device.size(), minor).ptr !=
                device.data() + device.size())
            continue;
        mounts.push_back(Mount{id, (major << 20) | minor, unescape(mount_point), std::string(type)});
    }
    return mounts;
}

bool is_local_file_system(std::string_view type) {
    // Where executables live on local disks, in images and in memory.
    static constexpr std::array<std::string_view, 15> local = {
        "ext4", "ext3", "ext2", "xfs", "btrfs", "f2fs", "zfs", "bcachefs",
        "tmpfs", "ramfs", "rootfs", "overlay", "squashfs", "erofs", "vfat",
    };
    for (std::string_view known : local) {
        if (type == known)
            return true;
    }
    return false;
}

}  // namespace dnsvis
