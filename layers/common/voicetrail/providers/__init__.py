"""One adapter per voice platform: authenticate, parse, reply. Each hands events to the shared core."""
