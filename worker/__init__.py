"""The background worker process (``python -m worker``); the jobs live in each domain's tasks.py."""
