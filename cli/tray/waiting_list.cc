#include "cli/tray/waiting_list.h"

#include <algorithm>

namespace backline::cli::tray {

void ApplyWaitingChanged(const v1::WaitingChanged& change,
                         std::vector<v1::WaitingEscalation>* list) {
  const std::string& id = change.escalation().id();
  if (!change.waiting()) return DropWaiting(id, list);
  v1::WaitingEscalation entry;
  *entry.mutable_escalation() = change.escalation();
  entry.set_best_match(change.best_match());
  auto it = std::find_if(list->begin(), list->end(),
                         [&](const v1::WaitingEscalation& w) { return w.escalation().id() == id; });
  if (it == list->end()) {
    list->push_back(std::move(entry));
  } else {
    *it = std::move(entry);
  }
}

void DropWaiting(const std::string& escalation_id, std::vector<v1::WaitingEscalation>* list) {
  list->erase(std::remove_if(list->begin(), list->end(),
                             [&](const v1::WaitingEscalation& w) {
                               return w.escalation().id() == escalation_id;
                             }),
              list->end());
}

}  // namespace backline::cli::tray
