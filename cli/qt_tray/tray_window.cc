#include "cli/qt_tray/tray_window.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QComboBox>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QPainter>
#include <QPushButton>
#include <QSignalBlocker>
#include <QStatusBar>
#include <QStyledItemDelegate>
#include <QVBoxLayout>
#include <algorithm>
#include <cstdio>
#include <fstream>

#include "absl/time/clock.h"
#include "cli/words.h"

namespace backline::qt_tray {
namespace {

// The state speaks UTF-8; Qt speaks UTF-16. These two are the only crossings.
QString FromUtf8(const std::string& s) {
  return QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size()));
}
std::string ToUtf8(const QString& s) { return s.toUtf8().toStdString(); }

struct StatusChoice {
  v1::PresenceStatus status;
  const char* label;
};
constexpr StatusChoice kStatusChoices[] = {
    {v1::PRESENCE_STATUS_AVAILABLE, "Available"}, {v1::PRESENCE_STATUS_ON_CALL, "On a call"},
    {v1::PRESENCE_STATUS_WRAP_UP, "Wrap-up"},     {v1::PRESENCE_STATUS_BREAK, "Break"},
    {v1::PRESENCE_STATUS_MEETING, "Meeting"},     {v1::PRESENCE_STATUS_OFFLINE, "Offline"},
};

// The tray icon: a disc in the colour of the person's state, with the number of offers pending
// (or "!" while not connected).
QIcon BadgeIcon(TrayBadge badge, int offers) {
  QColor colour;
  QString mark;
  switch (badge) {
    case TrayBadge::kDisconnected:
      colour = QColor(0x5a, 0x5a, 0x5a);
      mark = "!";
      break;
    case TrayBadge::kOffer:
      colour = QColor(0xd9, 0x30, 0x25);
      mark = offers > 9 ? QString("9+") : QString::number(offers);
      break;
    case TrayBadge::kAvailable:
      colour = QColor(0x2e, 0x9d, 0x4f);
      break;
    case TrayBadge::kBusy:
      colour = QColor(0xe0, 0xa1, 0x00);
      break;
    case TrayBadge::kOffline:
      colour = QColor(0x9a, 0x9a, 0x9a);
      break;
  }
  QPixmap pixmap(64, 64);
  pixmap.fill(Qt::transparent);
  QPainter painter(&pixmap);
  painter.setRenderHint(QPainter::Antialiasing);
  painter.setPen(Qt::NoPen);
  painter.setBrush(colour);
  painter.drawEllipse(4, 4, 56, 56);
  if (!mark.isEmpty()) {
    QFont font = painter.font();
    font.setBold(true);
    font.setPixelSize(mark.size() > 1 ? 28 : 38);
    painter.setFont(font);
    painter.setPen(Qt::white);
    painter.drawText(QRect(0, 0, 64, 64), Qt::AlignCenter, mark);
  }
  painter.end();
  return QIcon(pixmap);
}

// Rows as tall as their text drawn, line breaks, wrapping and fallback fonts included: Qt's own
// estimate uses the primary font's line height, which clips a second line after Chinese text.
class WrappedTextDelegate : public QStyledItemDelegate {
 public:
  using QStyledItemDelegate::QStyledItemDelegate;

  QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override {
    QSize size = QStyledItemDelegate::sizeHint(option, index);
    const auto* view = qobject_cast<const QAbstractItemView*>(option.widget);
    const int width = std::max(50, (view ? view->viewport()->width() : size.width()) - 8);
    const QRect drawn = option.fontMetrics.boundingRect(
        QRect(0, 0, width, 1 << 20), Qt::TextWordWrap, index.data(Qt::DisplayRole).toString());
    size.setHeight(std::max(size.height(), drawn.height() + 6));
    return size;
  }
};

// A list of lines that wrap, re-laid out when the window is resized.
QListWidget* WrappingList(QWidget* parent) {
  auto* list = new QListWidget(parent);
  list->setWordWrap(true);
  list->setResizeMode(QListView::Adjust);
  list->setItemDelegate(new WrappedTextDelegate(list));
  return list;
}

QString IdOf(const QListWidgetItem* item) {
  return item == nullptr ? QString() : item->data(Qt::UserRole).toString();
}

// Shows `lines` in `list`, keeping the item whose id is `selected` selected; `ids` give each
// line's id. Rebuilds only what differs, so that a countdown ticking does not disturb the
// selection or the scroll position.
void ShowLines(QListWidget* list, const std::vector<std::string>& lines,
               const std::vector<std::string>& ids, const QString& selected) {
  const QSignalBlocker block(list);
  while (list->count() > static_cast<int>(lines.size())) delete list->takeItem(list->count() - 1);
  for (size_t i = 0; i < lines.size(); ++i) {
    const QString text = FromUtf8(lines[i]);
    QListWidgetItem* item = list->item(static_cast<int>(i));
    if (item == nullptr) item = new QListWidgetItem(text, list);
    if (item->text() != text) item->setText(text);
    const QString id = FromUtf8(ids[i]);
    if (IdOf(item) != id) item->setData(Qt::UserRole, id);
    if (!selected.isEmpty() && id == selected && list->currentItem() != item) {
      list->setCurrentItem(item);
    }
  }
}

QJsonArray ItemTexts(const QListWidget* list) {
  QJsonArray out;
  for (int i = 0; i < list->count(); ++i) out.append(list->item(i)->text());
  return out;
}

}  // namespace

TrayWindow::TrayWindow(const TrayOptions& options) : options_(options), state_(options.me) {
  ClientOptions client;
  client.target = options.target;
  client.token = options.token;
  client.deadline = absl::Seconds(5);
  // A server that vanished without closing the connection is noticed within 15 s; a restarted
  // one is found again within 5 s.
  client.keepalive_time = absl::Seconds(10);
  client.keepalive_timeout = absl::Seconds(5);
  client.max_backoff = absl::Seconds(5);
  session_ = std::make_unique<TraySession>(client, [this](TraySession::Change change) {
    QMetaObject::invokeMethod(
        this, [this, change = std::move(change)] { Apply(change); }, Qt::QueuedConnection);
  });
  if (options.status) state_.WantStatus(*options.status);
  BuildWidgets();
  BuildTrayIcon();
  tick_.setInterval(1000);
  connect(&tick_, &QTimer::timeout, this, [this] {
    state_.Tick(absl::Now());
    DrawOffers();
    Refresh();
  });
}

TrayWindow::~TrayWindow() {
  // No change is posted once the session has stopped; those already queued die with `this`.
  session_->Stop();
}

void TrayWindow::Start() {
  session_->Start();
  tick_.start();
  tray_->show();
  if (!options_.hidden || !QSystemTrayIcon::isSystemTrayAvailable()) show();
  Refresh();
}

void TrayWindow::BuildWidgets() {
  auto* central = new QWidget(this);
  auto* layout = new QVBoxLayout(central);

  auto* top = new QHBoxLayout();
  top->addWidget(new QLabel("Presence:", central));
  presence_ = new QComboBox(central);
  for (const StatusChoice& c : kStatusChoices) presence_->addItem(c.label, int{c.status});
  presence_->setCurrentIndex(-1);
  top->addWidget(presence_, 1);
  layout->addLayout(top);
  connect(presence_, &QComboBox::activated, this, [this](int index) {
    state_.WantStatus(static_cast<v1::PresenceStatus>(presence_->itemData(index).toInt()));
    Refresh();
  });

  layout->addWidget(new QLabel("<b>Offers</b>", central));
  offers_ = WrappingList(central);
  offers_->setMaximumHeight(120);
  layout->addWidget(offers_);
  auto* buttons = new QHBoxLayout();
  accept_ = new QPushButton("&Accept", central);
  decline_ = new QPushButton("&Decline", central);
  accept_->setToolTip("Accept the selected offer (Alt+A)");
  decline_->setToolTip("Decline the selected offer (Alt+D)");
  buttons->addWidget(accept_);
  buttons->addWidget(decline_);
  buttons->addStretch(1);
  layout->addLayout(buttons);
  connect(accept_, &QPushButton::clicked, this, [this] { AcceptChosen(); });
  connect(decline_, &QPushButton::clicked, this, [this] { DeclineChosen(); });
  connect(offers_, &QListWidget::itemActivated, this, [this] { AcceptChosen(); });

  waiting_title_ = new QLabel("<b>Looking for help</b>", central);
  layout->addWidget(waiting_title_);
  waiting_ = WrappingList(central);
  waiting_->setMaximumHeight(120);
  layout->addWidget(waiting_);
  take_ = new QPushButton("&Take", central);
  take_->setToolTip("Take the selected escalation from the queue (Alt+T)");
  auto* take_row = new QHBoxLayout();
  take_row->addWidget(take_);
  take_row->addStretch(1);
  layout->addLayout(take_row);
  connect(take_, &QPushButton::clicked, this, [this] { TakeChosen(); });
  connect(waiting_, &QListWidget::itemActivated, this, [this] { TakeChosen(); });

  layout->addWidget(new QLabel("<b>Threads</b>", central));
  threads_ = WrappingList(central);
  threads_->setMaximumHeight(120);
  layout->addWidget(threads_);
  connect(threads_, &QListWidget::currentItemChanged, this, [this](QListWidgetItem* item) {
    state_.OpenThread(ToUtf8(IdOf(item)));
    Refresh();
  });

  thread_title_ = new QLabel(central);
  thread_title_->setTextFormat(Qt::PlainText);
  layout->addWidget(thread_title_);
  messages_ = WrappingList(central);
  layout->addWidget(messages_, 1);
  auto* reply_row = new QHBoxLayout();
  reply_ = new QLineEdit(central);
  reply_->setPlaceholderText("Reply… (Alt+R)");
  send_ = new QPushButton("&Send", central);
  resolve_ = new QPushButton("Res&olve", central);
  resolve_->setToolTip("Mark the escalation of this thread solved (Alt+O)");
  reply_row->addWidget(reply_, 1);
  reply_row->addWidget(send_);
  reply_row->addWidget(resolve_);
  layout->addLayout(reply_row);
  connect(reply_, &QLineEdit::returnPressed, this, [this] { SendReply(); });
  auto* focus_reply = new QAction("Reply", this);
  focus_reply->setShortcut(QKeySequence(Qt::ALT | Qt::Key_R));
  connect(focus_reply, &QAction::triggered, this, [this] { reply_->setFocus(); });
  addAction(focus_reply);
  connect(send_, &QPushButton::clicked, this, [this] { SendReply(); });
  connect(resolve_, &QPushButton::clicked, this, [this] {
    if (const v1::Escalation* e = state_.ResolvableEscalation()) session_->Resolve(e->id());
  });

  setCentralWidget(central);
  connection_ = new QLabel(this);
  notice_ = new QLabel(this);
  notice_->setTextFormat(Qt::PlainText);
  connection_->setTextFormat(Qt::PlainText);
  statusBar()->addWidget(connection_);
  statusBar()->addWidget(notice_, 1);

  auto* quit = new QAction("Quit", this);
  quit->setShortcut(QKeySequence::Quit);
  connect(quit, &QAction::triggered, this, &TrayWindow::Quit);
  addAction(quit);
  resize(560, 640);
}

void TrayWindow::BuildTrayIcon() {
  tray_ = new QSystemTrayIcon(BadgeIcon(TrayBadge::kDisconnected, 0), this);
  auto* menu = new QMenu(this);
  menu->addAction("Show Backline", this, [this] {
    show();
    raise();
  });
  menu->addAction("Quit", this, &TrayWindow::Quit);
  tray_->setContextMenu(menu);
  connect(tray_, &QSystemTrayIcon::activated, this, [this](QSystemTrayIcon::ActivationReason r) {
    if (r == QSystemTrayIcon::Trigger) ToggleWindow();
  });
  connect(tray_, &QSystemTrayIcon::messageClicked, this, [this] {
    show();
    raise();
  });
}

void TrayWindow::closeEvent(QCloseEvent* event) {
  if (QSystemTrayIcon::isSystemTrayAvailable()) {
    hide();  // to the tray; Quit from its menu or Ctrl+Q ends the tray
    event->ignore();
    return;
  }
  event->accept();
  Quit();
}

void TrayWindow::Quit() {
  // exit, not quit: QApplication::quit() asks every window to close first, and this one only
  // hides while there is a tray.
  QCoreApplication::exit(0);
}

void TrayWindow::changeEvent(QEvent* event) {
  QMainWindow::changeEvent(event);
  if (event->type() == QEvent::WindowStateChange) {
    state_.SetVisible(isVisible() && !isMinimized());
    Refresh();
  }
}

void TrayWindow::showEvent(QShowEvent* event) {
  QMainWindow::showEvent(event);
  state_.SetVisible(!isMinimized());
  Refresh();
}

void TrayWindow::hideEvent(QHideEvent* event) {
  QMainWindow::hideEvent(event);
  state_.SetVisible(false);
  Refresh();
}

void TrayWindow::Apply(const TraySession::Change& change) {
  change(state_);
  Refresh();
}

void TrayWindow::Refresh() {
  session_->FollowUp(state_);
  for (const PendingOffer& offer : state_.TakeNewOffers()) Notify(offer);
  if (auto returned = state_.TakeReturnedReply();
      returned && returned->thread_id == state_.open_thread() && reply_->text().isEmpty()) {
    reply_->setText(FromUtf8(returned->text));
  }
  const bool tray_available = QSystemTrayIcon::isSystemTrayAvailable();
  if (state_.version() == drawn_version_ && tray_available == tray_was_available_) return;
  drawn_version_ = state_.version();
  tray_was_available_ = tray_available;
  DrawOffers();
  DrawWaiting();
  DrawThreads();
  DrawMessages();
  DrawPresence();
  DrawSummary();
  WriteStateFile();
}

void TrayWindow::DrawOffers() {
  const absl::Time now = absl::Now();
  std::vector<std::string> lines, ids;
  for (const PendingOffer* o : state_.Offers()) {
    lines.push_back(state_.OfferLine(*o, now));
    ids.push_back(o->escalation.id());
  }
  ShowLines(offers_, lines, ids, IdOf(offers_->currentItem()));
  const bool can_answer = !ids.empty() && state_.connection().state == FeedState::kConnected;
  accept_->setEnabled(can_answer);
  decline_->setEnabled(can_answer);
}

void TrayWindow::DrawWaiting() {
  const absl::Time now = absl::Now();
  std::vector<std::string> lines, ids;
  for (const v1::WaitingEscalation* w : state_.Waiting()) {
    lines.push_back(state_.WaitingLine(*w, now));
    ids.push_back(w->escalation().id());
  }
  ShowLines(waiting_, lines, ids, IdOf(waiting_->currentItem()));
  // Shown only while something waits, so that the window stays small otherwise.
  const bool any = !ids.empty();
  waiting_title_->setVisible(any);
  waiting_->setVisible(any);
  take_->setVisible(any);
  take_->setEnabled(any && state_.connection().state == FeedState::kConnected);
}

void TrayWindow::DrawThreads() {
  std::vector<std::string> lines, ids;
  for (const TrayThread* t : state_.Threads()) {
    lines.push_back(state_.ThreadLine(*t));
    ids.push_back(t->thread.id());
  }
  ShowLines(threads_, lines, ids, FromUtf8(state_.open_thread()));
}

void TrayWindow::DrawMessages() {
  const TrayThread* t = state_.FindThread(state_.open_thread());
  std::vector<std::string> lines, ids;
  if (t != nullptr) {
    for (const auto& [seq, m] : t->messages) {
      lines.push_back(TrayState::MessageLine(m));
      ids.push_back(std::to_string(seq));
    }
  }
  const int before = messages_->count();
  ShowLines(messages_, lines, ids, QString());
  if (messages_->count() != before) messages_->scrollToBottom();
  thread_title_->setText(t == nullptr ? QString("No thread open")
                                      : FromUtf8(state_.ThreadTitle(*t)));
  reply_->setEnabled(t != nullptr);
  send_->setEnabled(t != nullptr);
  resolve_->setEnabled(state_.ResolvableEscalation() != nullptr);
  // A thread just opened (picked, or an offer accepted) is there to be answered.
  if (t != nullptr && drawn_thread_ != state_.open_thread()) reply_->setFocus();
  drawn_thread_ = state_.open_thread();
}

void TrayWindow::DrawPresence() {
  const QSignalBlocker block(presence_);
  const auto& p = state_.presence();
  presence_->setCurrentIndex(p ? presence_->findData(int{p->status()}) : -1);
}

void TrayWindow::DrawSummary() {
  const TraySummary s = state_.Summarize(absl::Now());
  setWindowTitle(FromUtf8(s.title));
  if (s.badge != drawn_badge_ || s.offers != drawn_offers_) {
    tray_->setIcon(BadgeIcon(s.badge, s.offers));
    setWindowIcon(tray_->icon());
    drawn_badge_ = s.badge;
    drawn_offers_ = s.offers;
  }
  tray_->setToolTip(FromUtf8(s.tooltip));
  connection_->setText(FromUtf8(s.connection));
  notice_->setText(FromUtf8(state_.notice()));
}

void TrayWindow::Notify(const PendingOffer& offer) {
  const QString title = FromUtf8("Offer from " + offer.escalation.requester());
  const QString text = FromUtf8(offer.escalation.question());
  if (QSystemTrayIcon::isSystemTrayAvailable() && QSystemTrayIcon::supportsMessages()) {
    tray_->showMessage(title, text, QSystemTrayIcon::Information, 15000);
    notifications_.emplace_back(offer.escalation.id(), "tray");
    return;
  }
  // No tray host: the window itself is the notification.
  if (!isVisible()) show();
  if (isMinimized()) showNormal();
  raise();
  QApplication::alert(this);
  notifications_.emplace_back(offer.escalation.id(), "window");
}

void TrayWindow::WriteStateFile() {
  if (options_.state_file.empty()) return;
  QJsonArray notified;
  for (const auto& [id, how] : notifications_) {
    notified.append(QJsonObject{{"escalation_id", FromUtf8(id)}, {"via", FromUtf8(how)}});
  }
  // What the widgets show, read back from them: the test compares it with what the server has.
  const QJsonObject shown{
      {"window_title", windowTitle()},
      {"window_visible", isVisible()},
      {"tray_available", QSystemTrayIcon::isSystemTrayAvailable()},
      {"tray_tooltip", tray_->toolTip()},
      {"offers", ItemTexts(offers_)},
      {"waiting", waiting_->isVisible() ? ItemTexts(waiting_) : QJsonArray()},
      {"take_enabled", take_->isEnabled()},
      {"threads", ItemTexts(threads_)},
      {"thread_title", thread_title_->text()},
      {"messages", ItemTexts(messages_)},
      {"presence", presence_->currentText()},
      {"connection", connection_->text()},
      {"resolve_enabled", resolve_->isEnabled()},
  };
  const QJsonObject extra{{"shown", shown}, {"notifications", notified}};
  const std::string json =
      state_.ToJson(absl::Now(), QJsonDocument(extra).toJson(QJsonDocument::Compact).toStdString());
  const std::string tmp = options_.state_file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << json;
    if (!out) return;
  }
  std::rename(tmp.c_str(), options_.state_file.c_str());
}

const PendingOffer* TrayWindow::ChosenOffer() const {
  if (const PendingOffer* o = state_.FindOffer(ToUtf8(IdOf(offers_->currentItem())))) return o;
  const auto offers = state_.Offers();
  return offers.empty() ? nullptr : offers.front();
}

void TrayWindow::AcceptChosen() {
  if (const PendingOffer* o = ChosenOffer())
    session_->Accept(o->escalation.id(), o->offer.offer_id());
}

void TrayWindow::DeclineChosen() {
  if (const PendingOffer* o = ChosenOffer()) {
    session_->Decline(o->escalation.id(), o->offer.offer_id());
  }
}

void TrayWindow::TakeChosen() {
  const auto waiting = state_.Waiting();
  if (waiting.empty()) return;
  const std::string selected = ToUtf8(IdOf(waiting_->currentItem()));
  const v1::WaitingEscalation* chosen = nullptr;
  for (const v1::WaitingEscalation* w : waiting) {
    if (w->escalation().id() == selected) chosen = w;
  }
  for (const v1::WaitingEscalation* w : waiting) {
    if (chosen == nullptr && w->best_match()) chosen = w;
  }
  session_->Take((chosen == nullptr ? waiting.front() : chosen)->escalation().id());
}

void TrayWindow::SendReply() {
  const std::string text = ToUtf8(reply_->text());
  if (state_.open_thread().empty() || reply_->text().trimmed().isEmpty()) return;
  if (!cli::IsThreadCommand(text)) {
    session_->Reply(state_.open_thread(), cli::MessageOfLine(text));
    reply_->clear();
    return;
  }
  // A command acts on the thread's escalation; a wrong one stays in the box to be corrected.
  auto command = cli::ParseThreadCommand(text);
  const std::string escalation = state_.ShownEscalation();
  if (!command.ok()) {
    state_.Notice(std::string(command.status().message()));
  } else if (escalation.empty()) {
    state_.Notice("Commands act on an escalation; this thread belongs to none.");
  } else {
    switch (command->kind) {
      case cli::ThreadCommand::kResolve:
        session_->Resolve(escalation, command->text);
        break;
      case cli::ThreadCommand::kTransfer:
        session_->Transfer(escalation, command->skills);
        break;
      case cli::ThreadCommand::kInvite:
        session_->Invite(escalation, command->text);
        break;
    }
    reply_->clear();
  }
  Refresh();
}

void TrayWindow::ToggleWindow() {
  if (isVisible() && !isMinimized()) {
    hide();
  } else {
    showNormal();
    raise();
    activateWindow();
  }
}

}  // namespace backline::qt_tray
