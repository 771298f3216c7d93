#include "core/version.h"

namespace meshloop {
const char* version() { return MESHLOOP_VERSION; }
const char* revision() { return MESHLOOP_REVISION; }
}  // namespace meshloop
