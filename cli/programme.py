"""`loyalty programme`: show and change a shop's programme settings (each change is a new version)."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import click

from db.engine import reading
from cli.common import context, shop_or_fail


@click.group()
def programme() -> None:
    """A shop's programme settings."""


@programme.command("show")
@click.argument("shop")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show(shop: str, as_json: bool) -> None:
    """Print the settings in force."""
    from loyalty.services.shops import programme as load

    with reading(context().engine) as conn:
        ref = shop_or_fail(conn, shop)
        data = {"version": ref.settings_version, **load(conn, ref.id, ref.settings_version).to_dict()}
    click.echo(json.dumps(data, indent=2) if as_json else "\n".join(f"{k}: {v}" for k, v in data.items()))


@programme.command("set")
@click.argument("shop")
@click.argument("changes", nargs=-1, required=True, metavar="FIELD=VALUE...")
def set_(shop: str, changes: tuple[str, ...]) -> None:
    """Change settings, e.g. `earn_rate=1 pending_days=14 expiry=after_last_purchase`."""
    from loyalty.domain.programme import ProgrammeError
    from loyalty.services.shops import programme as load, save_programme

    pairs = {}
    for change in changes:
        field, sep, value = change.partition("=")
        if not sep:
            raise click.BadParameter(f"{change!r}: expected FIELD=VALUE")
        pairs[field.strip()] = value
    with context().engine.begin() as conn:
        ref = shop_or_fail(conn, shop)
        try:
            new = load(conn, ref.id, ref.settings_version).with_changes(**pairs)
        except ProgrammeError as exc:
            raise click.ClickException(str(exc)) from None
        version = save_programme(conn, ref, new, datetime.now(timezone.utc))
    click.echo(f"programme of {shop} is now version {version}")


@programme.command("apply")
@click.argument("shop")
@click.argument("template_name", metavar="TEMPLATE")
def apply(shop: str, template_name: str) -> None:
    """Replace the settings with a ready programme: `store-a` (perk ladder) or `store-b` (conversion)."""
    from loyalty.domain.programme import ProgrammeError, template
    from loyalty.services.shops import save_programme

    try:
        new = template(template_name)
    except ProgrammeError as exc:
        raise click.ClickException(str(exc)) from None
    with context().engine.begin() as conn:
        version = save_programme(conn, shop_or_fail(conn, shop), new, datetime.now(timezone.utc))
    click.echo(f"programme of {shop} is now version {version} (template {template_name})")
