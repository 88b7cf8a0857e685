"""The background worker: RQ entry point and job functions (they call the services)."""
