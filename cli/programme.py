"""`loyalty programme`: show and change a shop's programme settings (each change is a new version)."""
from __future__ import annotations

import json
import click

from cli.common import context, reads, refusals, unit_of_work


@click.group()
def programme() -> None:
    """A shop's programme settings."""


@programme.command("show")
@click.argument("shop")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show(shop: str, as_json: bool) -> None:
    """Print the settings in force."""
    from loyalty.services.read.shops import programme_in_force

    with refusals():
        version, in_force = programme_in_force(shop, reads(context()))
    data = {"version": version, **in_force.to_dict()}
    click.echo(json.dumps(data, indent=2) if as_json else "\n".join(f"{k}: {v}" for k, v in data.items()))


@programme.command("set")
@click.argument("shop")
@click.argument("changes", nargs=-1, required=True, metavar="FIELD=VALUE...")
def set_(shop: str, changes: tuple[str, ...]) -> None:
    """Change settings, e.g. `earn_rate=1 pending_days=14 expiry=after_last_purchase`."""
    from loyalty.domain.programme import ProgrammeError
    from loyalty.domain.requests import ChangeProgramme
    from loyalty.services.use_cases.programme import change_programme

    pairs = {}
    for change in changes:
        field, sep, value = change.partition("=")
        if not sep:
            raise click.BadParameter(f"{change!r}: expected FIELD=VALUE")
        pairs[field.strip()] = value
    with refusals():
        try:
            version = change_programme(ChangeProgramme(shop, pairs), unit_of_work(context()))
        except ProgrammeError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"programme of {shop} is now version {version}")


@programme.command("apply")
@click.argument("shop")
@click.argument("template_name", metavar="TEMPLATE")
def apply(shop: str, template_name: str) -> None:
    """Replace the settings with a ready programme: `store-a` (perk ladder) or `store-b` (conversion)."""
    from loyalty.domain.programme import ProgrammeError, template
    from loyalty.domain.requests import SaveProgramme
    from loyalty.services.use_cases.programme import save_programme

    try:
        new = template(template_name)
    except ProgrammeError as exc:
        raise click.ClickException(str(exc)) from None
    with refusals():
        version, _ = save_programme(SaveProgramme(shop, new), unit_of_work(context()))
    click.echo(f"programme of {shop} is now version {version} (template {template_name})")
