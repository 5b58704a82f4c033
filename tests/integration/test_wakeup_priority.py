"""Webhooks waiting for their points go first: a processing job is queued at the front, before the balance
write-back slices already waiting, so one worker never makes a webhook wait behind a long write-back; but a
job that used up its time slice queues its continuation at the back, so that under a sustained stream the
write-back still gets its turn every slice."""
from __future__ import annotations

import jobs.inbox as inbox_job
from loyalty.services.wakeups import wake_sync, wake_worker


def test_a_processing_job_is_queued_before_waiting_write_back(ctx):
    wake_sync(ctx)
    assert [job.func_name for job in ctx.queue.jobs] == ["jobs.sync.sync_balances"]
    assert wake_worker(ctx)
    assert [job.func_name for job in ctx.queue.jobs] == ["jobs.inbox.process_inbox", "jobs.sync.sync_balances"]


def test_a_job_out_of_time_queues_its_continuation_behind_the_write_back(ctx, monkeypatch):
    monkeypatch.setattr(inbox_job, "_apply_waiting", lambda ctx_, max_batches, deadline: (10, True))
    wake_sync(ctx)  # (the job's own wake_sync coalesces with this one)
    assert inbox_job.process_inbox(ctx=ctx) == 10
    assert [job.func_name for job in ctx.queue.jobs] == ["jobs.sync.sync_balances", "jobs.inbox.process_inbox"]
