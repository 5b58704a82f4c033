"""Webhooks waiting for their points have a queue of their own: processing jobs go to the inbox queue, which
only the Procfile's `worker` processes serve, and everything else (the balance write-back, imports, emails)
to the background queue. A webhook never waits behind a write-back slice, and a sustained stream of
webhooks never holds the write-back back (tests/e2e/test_worker_queues.py runs both workers)."""
from __future__ import annotations

import jobs.inbox as inbox_job
from loyalty.services.wakeups import queue_history_import, wake_sync, wake_worker


def names(queue) -> list[str]:
    return [job.func_name for job in queue.jobs]


def test_processing_and_background_jobs_go_to_their_own_queues(ctx):
    wake_sync(ctx)
    queue_history_import(ctx, "a.myshopify.com")
    assert wake_worker(ctx)
    assert names(ctx.inbox_queue) == ["jobs.inbox.process_inbox"]
    assert names(ctx.queue) == ["jobs.sync.sync_balances", "jobs.history.import_history"]


def test_a_job_out_of_time_queues_its_continuation_on_the_inbox_queue_once(ctx, monkeypatch):
    monkeypatch.setattr(inbox_job, "_apply_waiting", lambda ctx_, max_batches, deadline: (10, True))
    assert inbox_job.process_inbox(ctx=ctx) == 10
    assert wake_worker(ctx)  # a webhook arriving meanwhile: coalesced with the continuation
    assert names(ctx.inbox_queue) == ["jobs.inbox.process_inbox"]
    assert names(ctx.queue) == ["jobs.sync.sync_balances"]  # the points it applied go to Shopify


def test_a_finished_job_queues_no_continuation(ctx, monkeypatch):
    monkeypatch.setattr(inbox_job, "_apply_waiting", lambda ctx_, max_batches, deadline: (3, False))
    assert inbox_job.process_inbox(ctx=ctx) == 3
    assert names(ctx.inbox_queue) == []
