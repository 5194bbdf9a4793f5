"""Deployment files (nginx, gunicorn) and the script that runs them on one machine."""
