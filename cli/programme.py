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
@click.argument("changes", nargs=-1, required=True, metavar="PATH=VALUE...")
def set_(shop: str, changes: tuple[str, ...]) -> None:
    """Change settings by name or dotted path, e.g. `earn_rate=1 expiry=after_last_purchase`,
    `rewards.carte-cadeau-10.points=350` (a list item by its key), `rewards.new-key='{"kind": ...}'` (adds
    it), `rewards.old-key=null` (removes it). A value is read as JSON where the setting is not text."""
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


@programme.command("save")
@click.argument("shop")
@click.argument("source", type=click.File("r"), metavar="FILE")
@click.option("--force", is_flag=True, help="Save even if another version was saved since FILE was shown.")
def save(shop: str, source, force: bool) -> None:
    """Replace the programme with FILE (`-`: standard input), e.g. `programme show --json` output, edited.
    Validated whole; its `version` (the one it was shown at) must still be in force, unless --force."""
    from loyalty.domain.programme import Programme, ProgrammeError
    from loyalty.domain.requests import SaveProgramme
    from loyalty.services.use_cases.programme import save_programme

    try:
        data = json.load(source)
    except ValueError as exc:
        raise click.ClickException(f"{source.name}: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise click.ClickException(f"{source.name}: expected a JSON object (the programme)")
    based_on = data.pop("version", None)
    try:
        if based_on is not None and (isinstance(based_on, bool) or not isinstance(based_on, int)):
            raise ProgrammeError("version: expected the whole number `programme show --json` printed")
        new = Programme.from_dict(data)
        with refusals():
            version, _ = save_programme(SaveProgramme(shop, new, None if force else based_on),
                                        unit_of_work(context()))
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
