"""The course's topics: lesson.yaml's `topic`, and a quiz question's, as the learner reads them.

A lesson has one topic, which the course map and the progress screen group by; a question may name one
too, so that a quiz drawn across lessons (the course review) scores the learner per topic. Both use these
ids, so the review's scores and the progress screen speak of the same topics. `review` is a lesson's
topic only: a question is about something the course teaches.
"""

TOPIC_TITLES = {
    "fundamentals": "Fundamentals",
    "invocation": "Invocation models",
    "concurrency": "Concurrency and scaling",
    "lifecycle": "Execution environment",
    "permissions": "Permissions",
    "versions": "Versions and aliases",
    "edge": "Edge functions",
    "operations": "Configuration and operations",
    "review": "Review",
}
QUESTION_TOPICS = tuple(t for t in TOPIC_TITLES if t != "review")


def topic_title(topic: str) -> str:
    return TOPIC_TITLES.get(topic, topic)
