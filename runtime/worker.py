"""The rq worker the Procfile runs (`rq worker --worker-class runtime.worker.PreloadedWorker`): rq's own
worker, a work horse forked for each job, but with the job modules imported once in the parent before any
fork. A plain `rq worker` imports the app in every work horse, about a second of CPU on a small machine
(SQLAlchemy, the services, the Shopify adapters) before each job, which set a floor of a second under the
time from a webhook to its points."""
from __future__ import annotations

import importlib

from rq.worker import Worker

JOB_MODULES = ("jobs.inbox", "jobs.sync", "jobs.bulk_sync", "jobs.write_back", "jobs.history", "jobs.reconcile",
               "jobs.notify", "jobs.scheduled", "jobs.flow_triggers", "jobs.collections", "jobs.store_credit",
               "jobs.tiers", "jobs.checkout_codes", "jobs.theme", "jobs.rollup")
"""Every module whose functions are queued by name (loyalty.services.wakeups, jobs/cron.py)."""


class PreloadedWorker(Worker):
    """rq's forking worker with the job modules imported before the first fork (the work horses share
    them, copy-on-write). Nothing that holds a connection is made here: a forked child must not share
    sockets with its parent, so each job still builds its own context."""

    def __init__(self, *args, **kwargs):
        for name in JOB_MODULES:
            importlib.import_module(name)
        super().__init__(*args, **kwargs)
