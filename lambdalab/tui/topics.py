"""Topic ids (lesson.yaml `topic`) as the course map names them."""

TOPIC_TITLES = {
    "fundamentals": "Fundamentals",
    "invocation": "Invocation models",
    "concurrency": "Concurrency and scaling",
    "lifecycle": "Execution environment",
    "permissions": "Permissions",
    "versions": "Versions and aliases",
    "edge": "Edge functions",
    "operations": "Configuration and operations",
}
