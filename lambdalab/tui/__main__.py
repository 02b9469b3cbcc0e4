"""`python -m lambdalab.tui`: the app itself, whatever stdout is (what `lambdalab serve` runs for each browser)."""

from lambdalab.tui.app import LambdalabApp

LambdalabApp().run()
