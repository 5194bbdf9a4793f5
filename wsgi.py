"""Entry point for a production WSGI server: `gunicorn wsgi:app`."""

from pallapp import create_app

app = create_app()
