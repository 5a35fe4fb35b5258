"""`moai status`: where am I, which backend is active, which one the table expects, why."""

from __future__ import annotations

import click

from moai_mashup import jsontext
from moai_mashup.status import collect, render


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def command(as_json: bool) -> None:
    """Where am I, which backend is active, which one the table expects, and why."""
    info = collect()
    click.echo(jsontext.dumps(info, indent=2) if as_json else render(info))
