"""Glyph and word for every state the app shows, so nothing is told by colour alone."""

RIGHT = "✔ correct"
WRONG = "✘ not quite"
DONE = "✔"
STARTED = "◐"
NOT_STARTED = "○"
MISSED = "✘"
UNSAVED = "●"
