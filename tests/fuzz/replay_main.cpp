// Replays files through the fuzz target without libFuzzer, so the corpus is
// a regression test on any compiler. Arguments are files or directories
// (whose regular files are replayed, in name order).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace fs = std::filesystem;

namespace {

bool replay_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        std::fprintf(stderr, "cannot read %s\n", path.c_str());
        return false;
    }
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Not data(): an empty file must still be a valid (non-null) pointer for
    // targets that do pointer arithmetic on it.
    static const uint8_t empty = 0;
    LLVMFuzzerTestOneInput(bytes.empty() ? &empty : bytes.data(), bytes.size());
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    size_t ran = 0;
    bool failed = false;
    for (int i = 1; i < argc; ++i) {
        const fs::path arg(argv[i]);
        std::error_code ec;
        if (fs::is_directory(arg, ec)) {
            std::vector<fs::path> files;
            for (const auto& entry : fs::directory_iterator(arg, ec)) {
                if (entry.is_regular_file())
                    files.push_back(entry.path());
            }
            if (ec) {
                std::fprintf(stderr, "cannot list %s: %s\n", argv[i], ec.message().c_str());
                failed = true;
                continue;
            }
            std::sort(files.begin(), files.end());
            for (const auto& file : files) {
                if (replay_file(file)) {
                    ++ran;
                } else {
                    failed = true;
                }
            }
        } else if (replay_file(arg)) {
            ++ran;
        } else {
            failed = true;
        }
    }
    std::printf("replayed %zu inputs\n", ran);
    if (ran == 0) {
        std::fprintf(stderr, "no inputs given\n");
        return 2;
    }
    return failed ? 1 : 0;
}
