#include "mesh/node.h"

namespace meshloop::mesh {

const char* event_kind_name(EventKind kind) {
  switch (kind) {
    case EventKind::kNeighbourUp: return "neighbour_up";
    case EventKind::kNeighbourDown: return "neighbour_down";
    case EventKind::kRouteChanged: return "route_changed";
    case EventKind::kFailover: return "failover";
    case EventKind::kLsaOriginated: return "lsa_originated";
    case EventKind::kSpfRun: return "spf_run";
    case EventKind::kPacketRejected: return "packet_rejected";
    case EventKind::kDataDropped: return "data_dropped";
  }
  return "unknown";
}

}  // namespace meshloop::mesh
