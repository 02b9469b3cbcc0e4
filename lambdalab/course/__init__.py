"""The course: lessons as data, their rules, quizzes, progress and plain-text mode. Never imports Textual."""
