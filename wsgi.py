"""WSGI entrypoint for gunicorn: `gunicorn wsgi:app`."""
from runtime.web import create_app

app = create_app()
