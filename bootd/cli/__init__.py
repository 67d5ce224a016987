"""Command-line sub-commands of bootd; see bootd/__main__.py."""
