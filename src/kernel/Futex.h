// The identity of a futex word (Linux: union futex_key, from get_futex_key). A private futex (the
// call has FUTEX_PRIVATE_FLAG, or the word lies in a private mapping) is its address in one
// address space. A shared one is its place in the object the mapping shows, a file or shmem inode
// and the byte offset in it, so processes that map the object at different addresses wait on, and
// wake, the same futex.
#pragma once

#include "base/Types.h"

namespace kioku {

class AddressSpace;

struct FutexKey {
    const void* object = nullptr; // the AddressSpace (private) or the Inode (shared)
    u64 offset = 0;               // the address (private) or the byte offset in the object
    bool operator==(const FutexKey&) const = default;
};

FutexKey futex_key(AddressSpace& space, u64 uaddr, bool private_futex);

} // namespace kioku
