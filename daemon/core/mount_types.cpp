#include "mount_types.hpp"

#include <array>
#include <charconv>

namespace dnsvis {

MountTypes parse_mount_types(std::string_view mountinfo) {
    MountTypes types;
    while (!mountinfo.empty()) {
        const size_t end = mountinfo.find('\n');
        const std::string_view line = mountinfo.substr(0, end);
        mountinfo.remove_prefix(end == std::string_view::npos ? mountinfo.size() : end + 1);

        uint64_t id = 0;
        const auto [after_id, error] = std::from_chars(line.data(), line.data() + line.size(), id);
        if (error != std::errc{} || after_id == line.data() || *after_id != ' ')
            continue;
        // The optional fields before the separator vary in number; the
        // separator itself cannot occur in the escaped fields.
        const size_t separator = line.find(" - ");
        if (separator == std::string_view::npos)
            continue;
        std::string_view type = line.substr(separator + 3);
        type = type.substr(0, type.find(' '));
        if (!type.empty())
            types.insert_or_assign(id, std::string(type));
    }
    return types;
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
