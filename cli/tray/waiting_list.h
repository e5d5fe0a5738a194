// The looking-for-help list as both trays keep it: the escalations waiting that the person could
// take, in the queue's order, from ListWaiting snapshots and the stream's WaitingChanged events.
//
//   std::vector<v1::WaitingEscalation> list = ...;   // a ListWaiting answer
//   ApplyWaitingChanged(event.waiting_changed(), &list);
#pragma once

#include <string>
#include <vector>

#include "backline/client.h"

namespace backline::cli::tray {

// Adds the escalation at the end (or replaces its entry) when it waits; removes it when not.
void ApplyWaitingChanged(const v1::WaitingChanged& change,
                         std::vector<v1::WaitingEscalation>* list);

// Removes the escalation (taken, offered or otherwise no longer waiting).
void DropWaiting(const std::string& escalation_id, std::vector<v1::WaitingEscalation>* list);

}  // namespace backline::cli::tray
