"""lambdalab: learn how AWS Lambda really behaves, offline and in virtual time."""

__version__ = "0.1.0"
