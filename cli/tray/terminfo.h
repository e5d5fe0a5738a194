// Whether this machine's terminfo knows a terminal type. Kept apart from tray_screen.cc because
// term.h defines macros named like ordinary words (`lines`, `columns`...).
#pragma once

namespace backline::cli::tray {

// True when terminfo has an entry for `term`. Asks through setupterm(3X) and frees what that
// set up: a newterm(3X) that fails for an unknown type leaks the screen it began.
bool KnownTerminalType(const char* term);

}  // namespace backline::cli::tray
