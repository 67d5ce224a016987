"""Discovery: devices as they appear, mounted read-only, scanned into the inventory."""
