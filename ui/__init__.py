"""bootd-menu: the console boot menu, a pure D-Bus client of the daemon."""
