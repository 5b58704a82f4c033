"""Webhooks waiting for their points go first: a processing job is queued at the front, before the balance
write-back slices already waiting, so one worker never makes a webhook wait behind a long write-back."""
from __future__ import annotations

from loyalty.services.wakeups import wake_sync, wake_worker


def test_a_processing_job_is_queued_before_waiting_write_back(ctx):
    wake_sync(ctx)
    assert [job.func_name for job in ctx.queue.jobs] == ["jobs.sync.sync_balances"]
    assert wake_worker(ctx)
    assert [job.func_name for job in ctx.queue.jobs] == ["jobs.inbox.process_inbox", "jobs.sync.sync_balances"]
