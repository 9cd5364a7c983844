// Replacing a file so that a reader (or a crash) sees the old contents or
// the new, never a mix: a temporary file in the same directory, fsync, then
// rename over the old one, then fsync of the directory.
#pragma once

#include <string>
#include <string_view>

namespace dnsvis {

// Creates the file's directory (mode 0755) if it is missing. On failure
// returns false and says why in `error`; the old file is left as it was.
bool write_file_atomically(const std::string& path, std::string_view contents, std::string& error);

}  // namespace dnsvis
