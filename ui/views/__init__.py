"""Views: urwid widgets only; data and callbacks in."""
