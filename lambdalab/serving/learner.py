"""`python -m lambdalab.serving.learner`: a learner's session started fresh (`serve --no-preload`, or no zygote to
ask): the learner's code shut in as the server chose (containment.py), then the app, as a forked session does."""

from pathlib import Path

from lambdalab.serving.containment import contain
from lambdalab.tui.app import LambdalabApp

contain(Path.cwd())
LambdalabApp().run()
