// Build identity, baked in at configure time.
#pragma once

namespace meshloop {
const char* version();
const char* revision();
}  // namespace meshloop
