"""The app's themes: a default, a high-contrast one, and a colour-blind-safe one (blue/orange, never red/green).

Colour is never the only signal: every state also has a glyph and a word (see `glyphs`).
"""

from __future__ import annotations

from textual.theme import Theme

DEFAULT = "lambdalab"

THEMES = (
    Theme(
        name=DEFAULT,
        primary="#FF9900",
        secondary="#4A90D9",
        accent="#FFB84D",
        success="#4CAF50",
        warning="#FFC107",
        error="#E5533D",
        background="#161A1F",
        surface="#1E242B",
        panel="#28303A",
        dark=True,
    ),
    Theme(
        name="lambdalab-high-contrast",
        primary="#FFFF00",
        secondary="#00FFFF",
        accent="#FFFFFF",
        success="#00FF00",
        warning="#FFFF00",
        error="#FF4040",
        foreground="#FFFFFF",
        background="#000000",
        surface="#000000",
        panel="#202020",
        dark=True,
    ),
    # Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
    Theme(
        name="lambdalab-colour-blind",
        primary="#0072B2",
        secondary="#56B4E9",
        accent="#E69F00",
        success="#0072B2",
        warning="#E69F00",
        error="#D55E00",
        background="#14181C",
        surface="#1C2228",
        panel="#27303A",
        dark=True,
    ),
)
