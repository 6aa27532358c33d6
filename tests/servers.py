"""Fixtures that serve the app for real (gunicorn on loopback). Filled in by the serving work."""
