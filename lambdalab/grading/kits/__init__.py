"""Deployment kits: what an instructor uploads to the platforms that grade at scale (Gradescope, GitHub
Classroom), each built from the installed lambdalab and an answer key."""
