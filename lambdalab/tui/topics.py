"""Topic ids (lesson.yaml `topic`) as the course map names them: the course's own table (course/topics.py)."""

from lambdalab.course.topics import TOPIC_TITLES

__all__ = ["TOPIC_TITLES"]
