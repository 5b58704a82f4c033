"""`loyalty flow`: the Shopify Flow triggers waiting to be sent, sent now, or tried again."""
from __future__ import annotations

import click

from cli.common import context


@click.group()
def flow() -> None:
    """Shopify Flow triggers (failures show in `loyalty failures` as flow_failed and flow_retrying)."""


@flow.command("send")
def send() -> None:
    """Send every due Flow trigger now, in this process."""
    from jobs.flow_triggers import send_flow_triggers

    click.echo(f"{send_flow_triggers(context())} triggers sent")


@flow.command("retry")
@click.argument("trigger_id", type=int, required=False)
@click.option("--all", "every", is_flag=True, help="Retry every failed trigger.")
def retry(trigger_id: int | None, every: bool) -> None:
    """Give a failed Flow trigger (or --all) a new round of attempts."""
    from jobs.flow_triggers import retry as retry_failed

    if trigger_id is None and not every:
        raise click.UsageError("give a trigger id (see `loyalty failures`) or --all")
    n = retry_failed(context(), None if every else trigger_id)
    if not n:
        raise click.ClickException("no failed Flow trigger to retry")
    click.echo(f"{n} triggers queued again; run `loyalty flow send` or wait for the scheduler")
