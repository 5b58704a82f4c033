"""`gunicorn tools.bench.wsgi:app`: the production app (wsgi.py) with the ingest benchmark's baselines (tools.bench.baselines)."""
from tools.bench.baselines import with_baselines
from wsgi import app

app = with_baselines(app)
