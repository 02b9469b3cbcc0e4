"""The Textual app. Only this room (and the CLI's launch of it) imports Textual."""
