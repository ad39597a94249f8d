#include "front/scenario/Script.h"

namespace kioku::scenario {

u8 Fill::at(u64 i) const
{
    switch (kind) {
    case Kind::None: return 0;
    case Kind::Byte: return byte;
    case Kind::Sequence: return static_cast<u8>(i);
    case Kind::Text: return static_cast<u8>(text[i % text.size()]);
    }
    return 0;
}

} // namespace kioku::scenario
