"""bootd: a boot menu daemon for machines that boot Linux first and kexec the real OS."""

__version__ = "0.1.0"
