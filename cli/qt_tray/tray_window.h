// The desktop tray's Qt side: a system-tray icon whose colour and tooltip say the person's
// presence, their pending offers and the connection; a notification for each new offer; and a
// small window with the offers and their countdowns (Accept Alt+A, Decline Alt+D), the
// escalations waiting that the person could take (Take Alt+T; shown while any wait), the threads
// with unread counts, the thread shown with a reply box, and a presence selector. Without a
// tray host the window alone does it all.
//
// Everything shown comes from the TrayState; the TraySession's changes arrive here as queued
// calls on the UI thread (QMetaObject::invokeMethod), so widgets are touched by the UI thread
// only and no network call ever runs on it. Text crosses between the state (UTF-8) and Qt
// (QString) only through QString::fromStdString / toStdString, which are UTF-8 both ways.
#pragma once

#include <QMainWindow>
#include <QSystemTrayIcon>
#include <QTimer>
#include <memory>
#include <string>
#include <vector>

#include "cli/qt_tray/tray_options.h"
#include "cli/qt_tray/tray_session.h"
#include "cli/qt_tray/tray_state.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPushButton;

namespace backline::qt_tray {

class TrayWindow : public QMainWindow {
  Q_OBJECT

 public:
  explicit TrayWindow(const TrayOptions& options);
  ~TrayWindow() override;

  // Connects (the session starts its feed) and shows the window, or only the tray icon with
  // --hidden when there is a tray.
  void Start();

 protected:
  void closeEvent(QCloseEvent* event) override;
  void changeEvent(QEvent* event) override;
  void showEvent(QShowEvent* event) override;
  void hideEvent(QHideEvent* event) override;

 private:
  void BuildWidgets();
  void BuildTrayIcon();
  // Applies a change of the session, then sends what the state asks for and redraws.
  void Apply(const TraySession::Change& change);
  // Sends what the state asks for and redraws whatever changed.
  void Refresh();
  void DrawOffers();
  void DrawWaiting();
  void DrawThreads();
  void DrawMessages();
  void DrawPresence();
  void DrawSummary();
  void Notify(const PendingOffer& offer);
  void WriteStateFile();

  // The offer the buttons act on: the selected one, else the one closest to its deadline.
  const PendingOffer* ChosenOffer() const;
  void AcceptChosen();
  void DeclineChosen();
  // Takes the selected waiting escalation, else the first best match, else the first.
  void TakeChosen();
  void SendReply();
  void ToggleWindow();
  void Quit();

  const TrayOptions options_;
  TrayState state_;
  std::unique_ptr<TraySession> session_;

  QSystemTrayIcon* tray_ = nullptr;
  QListWidget* offers_ = nullptr;
  QPushButton* accept_ = nullptr;
  QPushButton* decline_ = nullptr;
  QLabel* waiting_title_ = nullptr;
  QListWidget* waiting_ = nullptr;
  QPushButton* take_ = nullptr;
  QListWidget* threads_ = nullptr;
  QLabel* thread_title_ = nullptr;
  QListWidget* messages_ = nullptr;
  QLineEdit* reply_ = nullptr;
  QPushButton* send_ = nullptr;
  QPushButton* resolve_ = nullptr;
  QComboBox* presence_ = nullptr;
  QLabel* connection_ = nullptr;
  QLabel* notice_ = nullptr;
  QTimer tick_;

  uint64_t drawn_version_ = ~uint64_t{0};
  bool tray_was_available_ = false;
  TrayBadge drawn_badge_ = TrayBadge::kOffline;
  int drawn_offers_ = -1;
  std::string drawn_thread_;
  // Offers notified of, and how: "tray" (a tray message) or "window" (no tray host).
  std::vector<std::pair<std::string, std::string>> notifications_;
};

}  // namespace backline::qt_tray
