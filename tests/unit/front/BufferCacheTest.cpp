// The buffer cache: block devices (/dev/vda from `machine disk=`, the swap partitions /dev/swapN)
// read and written through their own page cache, which meminfo counts as Buffers.
#include <gtest/gtest.h>

#include "unit/front/ScenarioRun.h"

using kioku::test::run;
using kioku::test::RunResult;

TEST(BufferCache, TheDeviceFillsBuffersAndAFileFillsCached)
{
    RunResult r =
        run("machine mem=64M disk=8M check=on\nspawn A\nmmap A name=buf len=4M\n"
            "file /tmp/data size=4M pattern=0x11\nsysctl vm.drop_caches=3\n"
            "open A /dev/vda rdwr as dev\nfread A dev buf len=4M\n"
            "expect meminfo.Buffers == 4M\nexpect meminfo.Cached == 0\n"
            "open A /tmp/data as f\nfread A f buf len=4M\n"
            "expect meminfo.Buffers == 4M\nexpect meminfo.Cached == 4M\n"
            "fwrite A dev buf len=4K offset=8M-4K\nexpect meminfo.Dirty == 4K\n"
            "fwrite A dev buf len=4K offset=8M\nexpect error ENOSPC\n"
            "sync\nexpect meminfo.Dirty == 0\nsysctl vm.drop_caches=3\nexpect meminfo.Buffers == 0\n");
    EXPECT_EQ(r.status, 0) << r.out << r.err;
}

TEST(BufferCache, NoDiskNoDevice)
{
    RunResult r = run("machine mem=64M\nspawn A\nopen A /dev/vda as dev\nexpect error ENOENT\n");
    EXPECT_EQ(r.status, 0) << r.out << r.err;
    RunResult bad = run("machine mem=64M disk=1000\n");
    EXPECT_NE(bad.err.find("bad disk size '1000'"), std::string::npos) << bad.err;
}

TEST(BufferCache, ASwapPartitionShowsWhatWasSwappedOutAndGoesAtSwapoff)
{
    RunResult r =
        run("machine mem=16M swap=8M check=on\nspawn A\nmmap A name=buf len=20M\n"
            "write A buf pattern=0x5a\nexpect vmstat.pswpout > 0\n"
            "open A /dev/swap0 excl as busy\nexpect error EBUSY\n"
            "open A /dev/swap0 as dev\nmmap A name=r len=8K\nfread A dev r len=8K\n"
            // Slot 0 is the header; slot 1 holds the first page swapped out.
            "read A r+4K len=4K pattern=0x5a\nexpect meminfo.Buffers >= 8K\n"
            // Its blocks are swapped-out memory: no write may reach them (ETXTBSY).
            "open A /dev/swap0 rdwr as rw\nfwrite A rw r len=4K offset=4K\nexpect error ETXTBSY\n"
            "mmap A name=m len=4K flags=shared fd=rw\nexpect error ETXTBSY\n"
            "mmap A name=ro len=4K prot=r flags=shared fd=rw\nmprotect A ro prot=rw\nexpect error EACCES\n"
            "read A buf len=20M pattern=0x5a\n"
            "munmap A buf\nswapoff /dev/swap0\nexpect meminfo.Buffers == 0\n"
            "fread A dev r len=4K offset=0\nexpect error EIO\n"
            "open A /dev/swap0 as again\nexpect error ENOENT\n");
    EXPECT_EQ(r.status, 0) << r.out << r.err;
}
