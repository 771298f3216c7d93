// Flap damping parameters (mesh/neighbours.h applies them; NodeConfig carries them).
#pragma once

#include "core/time.h"

namespace meshloop::mesh {

struct FlapDamping {
  Duration hold = seconds(2);       // after the second flap; doubles with each further one
  Duration max_hold = seconds(32);
  Duration memory = seconds(60);    // up this long without going down: its past flaps are forgotten
};

}  // namespace meshloop::mesh
