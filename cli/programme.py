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
        version, _ = save_programme(SaveProgramme(shop, new, template=template_name), unit_of_work(context()))
    click.echo(f"programme of {shop} is now version {version} (template {template_name})")


@programme.command("simulate")
@click.argument("shop")
@click.argument("draft", type=click.File("r"), metavar="DRAFT.json")
@click.option("--since", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Replay the orders paid from this day (YYYY-MM-DD, UTC) to now.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole report as JSON.")
def simulate(shop: str, draft, since, as_json: bool) -> None:
    """Replay the shop's recorded orders under a draft programme (a document as `show --json` prints it),
    beside the programme in force: points issued, rewards redeemable, liability, customers per tier, the
    customers whose tier would change, per month. Nothing is saved or written."""
    from datetime import timezone

    from loyalty.domain.errors import ProgrammeError, ReportRangeError
    from loyalty.domain.simulation import draft_from
    from loyalty.services.read.simulation import simulate_programme

    try:
        document = json.load(draft)
    except ValueError as exc:
        raise click.ClickException(f"{draft.name}: not JSON ({exc})") from None
    with refusals():
        try:
            report = simulate_programme(shop, draft_from(document), since.replace(tzinfo=timezone.utc),
                                        reads(context()))
        except (ProgrammeError, ReportRangeError) as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(report, indent=2) if as_json else "\n".join(summary_lines(report)))


def summary_lines(report: dict) -> list[str]:
    """The report as a table a person reads: one line per month, in force -> draft."""
    lines = [f"{report['shop']}: {report['orders_replayed']} orders replayed since {report['since'][:10]}",
             f"a point is worth: in force {report['in_force']['point_value']['description']}; "
             f"draft {report['draft']['point_value']['description']}",
             "month    issued (in force -> draft)   outstanding   liability   redeemable   tier differs"]
    for month in report["months"]:
        f, d = month["in_force"], month["draft"]
        lines.append(f"{month['month']}  {f['issued']:>9} -> {d['issued']:<9}  {f['outstanding']:>9} -> "
                     f"{d['outstanding']:<9}  {f['liability']:>10} -> {d['liability']:<10}  "
                     f"{f['rewards_redeemable']:>6} -> {d['rewards_redeemable']:<6}  "
                     f"{month['customers_whose_tier_differs']}")
    for side in ("in_force", "draft"):
        tiers = ", ".join(f"{k}: {v}" for k, v in report[side]["tiers"].items())
        lines.append(f"customers per tier ({side.replace('_', ' ')}): {tiers}")
    changes = report["standing_changes"]
    lines.append(f"{changes['count']} customers would change tier")
    lines += [f"  {c['customer']}: {c['in_force']} -> {c['draft']}" for c in changes["customers"]]
    lines += [f"note: {n}" for n in report["notes"]]
    return lines


@programme.command("liability")
@click.argument("shop")
@click.option("--from", "first", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="First day (YYYY-MM-DD, UTC); default 29 days before --to.")
@click.option("--to", "last", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Last day (YYYY-MM-DD, UTC); default today.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the admin API's report).")
def liability(shop: str, first, last, as_json: bool) -> None:
    """What the shop owes in points and in money: a point valued by what it buys in the programme in force
    (the rule is stated), and the breakage measured from the shop's ledger with the forecast after it."""
    from datetime import datetime, timedelta, timezone

    from loyalty.domain.errors import ReportRangeError
    from loyalty.services.read.reports import liability_report
    from loyalty.services.read.shops import installed_shop

    last_day = last.date() if last else datetime.now(timezone.utc).date()
    first_day = first.date() if first else last_day - timedelta(days=29)
    with refusals():
        try:
            report = liability_report(installed_shop(shop, reads(context())), first_day, last_day,
                                      reads(context()))
        except ReportRangeError as exc:
            raise click.ClickException(str(exc)) from None
    head = report.summary()
    if as_json:
        click.echo(json.dumps({"from": first_day.isoformat(), "to": last_day.isoformat(), **head,
                               "days": [d.to_dict() for d in report.days]}, indent=2))
        return
    end, breakage = report.days[-1], head["breakage"]
    click.echo("\n".join([
        f"{shop} on {end.day}: {end.outstanding} points owed ({end.pending} pending), "
        f"{end.outstanding_value} {head['currency']}".rstrip(),
        f"a point is worth: {head['valuation']['description']}",
        f"breakage {breakage['rate']}: liability after breakage {breakage['forecast_liability']} "
        f"{head['currency']}".rstrip(),
        f"method: {breakage['method']}",
        f"store credit owed (money, not points): {head['store_credit']['outstanding']} {head['currency']}".rstrip()
        + f" on {head['store_credit']['credits']} credit(s)",
    ]))
