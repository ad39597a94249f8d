// A main() for the fuzz targets when they are built without libFuzzer (the plain and sanitizer
// trees, and CI): it runs every file of a corpus directory through LLVMFuzzerTestOneInput, then
// ITERATIONS deterministic mutations of them drawn from SEED (bit flips, byte changes, inserted
// and deleted runs, chunks spliced between inputs, boundary integers over 1, 2, 4 and 8 bytes).
// The same seed gives the same inputs, so a failure found here is found again. Coverage-guided
// fuzzing is scripts/fuzz.sh's job, with libFuzzer.
//
// Usage: fuzz_NAME CORPUS_DIR ITERATIONS SEED
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

using Input = std::vector<uint8_t>;

// splitmix64: a small, good, portable generator.
struct Rng {
    uint64_t state;
    uint64_t next()
    {
        uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    size_t below(size_t n) { return n ? static_cast<size_t>(next() % n) : 0; }
};

Input mutate(const std::vector<Input>& corpus, Rng& rng)
{
    Input in = corpus[rng.below(corpus.size())];
    size_t rounds = 1 + rng.below(8);
    for (size_t r = 0; r < rounds; ++r) {
        size_t at = rng.below(in.size() + 1);
        switch (rng.below(6)) {
        case 0: // flip a bit
            if (!in.empty())
                in[rng.below(in.size())] ^= static_cast<uint8_t>(1u << rng.below(8));
            break;
        case 1: // set a byte
            if (!in.empty())
                in[rng.below(in.size())] = static_cast<uint8_t>(rng.next());
            break;
        case 2: { // insert a run of one byte
            size_t n = 1 + rng.below(16);
            in.insert(in.begin() + static_cast<long>(at), n, static_cast<uint8_t>(rng.next()));
            break;
        }
        case 3: { // delete a run
            size_t n = std::min(in.size() - std::min(at, in.size()), 1 + rng.below(32));
            in.erase(in.begin() + static_cast<long>(at), in.begin() + static_cast<long>(at + n));
            break;
        }
        case 4: { // splice a chunk of another input
            const Input& other = corpus[rng.below(corpus.size())];
            if (other.empty())
                break;
            size_t from = rng.below(other.size());
            size_t n = std::min(other.size() - from, 1 + rng.below(64));
            in.insert(in.begin() + static_cast<long>(at), other.begin() + static_cast<long>(from),
                      other.begin() + static_cast<long>(from + n));
            break;
        }
        default: { // a boundary integer over 1, 2, 4 or 8 bytes
            static const uint64_t interesting[] = {0,          1,          0x7f,       0x80,
                                                   0xff,       0x7fff,     0x8000,     0xffff,
                                                   0x7fffffff, 0x80000000, 0xffffffff, 0x7fffffffffffffffULL,
                                                   ~0ULL};
            uint64_t v = interesting[rng.below(std::size(interesting))];
            size_t width = size_t{1} << rng.below(4);
            if (in.size() >= width) {
                size_t pos = rng.below(in.size() - width + 1);
                std::memcpy(in.data() + pos, &v, width);
            }
            break;
        }
        }
    }
    return in;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s CORPUS_DIR ITERATIONS SEED\n", argv[0]);
        return 2;
    }
    std::vector<Input> corpus;
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(argv[1]))
        if (entry.is_regular_file())
            files.push_back(entry.path());
    std::sort(files.begin(), files.end()); // directory order is the filesystem's; ours is not
    for (const auto& path : files) {
        std::ifstream in(path, std::ios::binary);
        corpus.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    if (corpus.empty()) {
        std::fprintf(stderr, "%s: no inputs in %s\n", argv[0], argv[1]);
        return 2;
    }
    for (const Input& in : corpus)
        LLVMFuzzerTestOneInput(in.data(), in.size());
    Rng rng{std::strtoull(argv[3], nullptr, 0)};
    unsigned long iterations = std::strtoul(argv[2], nullptr, 0);
    for (unsigned long i = 0; i < iterations; ++i) {
        Input in = mutate(corpus, rng);
        LLVMFuzzerTestOneInput(in.data(), in.size());
    }
    std::printf("%s: %zu corpus inputs and %lu mutations, no crash\n", argv[0], corpus.size(), iterations);
    return 0;
}
