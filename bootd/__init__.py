"""bootd: a boot menu daemon for machines that boot Linux first and kexec the real OS."""

import os as _os
import sys as _sys

__version__ = "0.1.0"

# The Debian package carries the libraries Debian 12 has too old (urwid, wcwidth,
# typing_extensions, dbus-fast: debian/vendor.txt) in bootd/_vendor; they come
# before the system's copies.  A wheel or a checkout has no such directory.
_VENDOR = _os.path.join(_os.path.dirname(__file__), "_vendor")
if _os.path.isdir(_VENDOR) and _VENDOR not in _sys.path:
    _sys.path.insert(0, _VENDOR)
