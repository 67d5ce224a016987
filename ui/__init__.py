"""bootd-menu: the console boot menu, a pure D-Bus client of the daemon."""

import bootd as _bootd  # noqa: F401 -- first: the Debian package's vendored urwid and dbus-fast
