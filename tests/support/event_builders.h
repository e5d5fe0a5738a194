// Events and snapshots as the server sends them, for the unit tests of the trays' state models:
// an escalation offered to a helper, the offer's events, text messages and thread snapshots.
//
//   const v1::Escalation e = OfferedEscalation("esc-1", "off-1", "soren", "hjælp",
//                                              kEventTime + absl::Seconds(15));
//   model.ApplyEvent(OfferMadeEvent(e));
#pragma once

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "backline/v1/common.pb.h"
#include "backline/v1/escalations.pb.h"

namespace backline::testing {

// The "now" of these fixtures.
inline const absl::Time kEventTime = absl::FromUnixSeconds(1'800'000'000);

google::protobuf::Timestamp Stamp(absl::Time t);

// Escalation `id` from anna (Danish, billing at 3 or better), offered to `helper` as `offer_id`
// at kEventTime, lapsing at `deadline`.
v1::Escalation OfferedEscalation(const std::string& id, const std::string& offer_id,
                                 const std::string& helper, const std::string& question,
                                 absl::Time deadline);
// The OFFER event of `e`'s current offer.
v1::Event OfferMadeEvent(const v1::Escalation& e);
v1::Event OfferClosedEvent(const std::string& escalation_id, const std::string& offer_id,
                           const std::string& reason);
// Escalation `id` from anna (as OfferedEscalation, not offered) waiting in the queue at
// `position` (0: not known, as in the stream's events), asked `waited` before kEventTime.
v1::WaitingEscalation WaitingEscalation(const std::string& id, int position, absl::Duration waited,
                                        bool best_match, const std::string& question);
// The WaitingChanged event of `w`: it waits (`waiting`) or no longer does.
v1::Event WaitingChangedEvent(const v1::WaitingEscalation& w, bool waiting);
// A text message, sent `seq` seconds after kEventTime.
v1::Message TextMessage(const std::string& thread, int64_t seq, const std::string& sender,
                        const std::string& text);
v1::Event PostedEvent(const v1::Message& m);
// A direct thread between anna and soren as ListThreads returns it.
v1::Thread DirectThread(const std::string& id, int64_t last_seq, int64_t read_seq,
                        absl::Time activity = kEventTime);

}  // namespace backline::testing
