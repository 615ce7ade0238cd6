"""The `voicetrail` command: the typer app, wired from the operator commands and the development harness.

* `voicetrail_cli.ops`: what an operator runs against a deployment (calls, evidence, audit, erase, purge,
  report, config, dnc, sign) and the stack's description (template, stack config).
* `voicetrail_cli.dev`: the development harness (the local stack, demo, simulator, scenarios, faults).
* shared by both: `failures` (one-line errors), `output` (tables and JSON), `target` (which deployment).
"""

from __future__ import annotations

from typing import Annotated

import typer

from voicetrail_cli.dev.demo import demo
from voicetrail_cli.dev.serve import serve
from voicetrail_cli.dev.simulate.command import simulate
from voicetrail_cli.failures import DEBUG_ENV, VoicetrailGroup
from voicetrail_cli.ops import compliance
from voicetrail_cli.ops.calls import calls_app
from voicetrail_cli.ops.configs import config_app
from voicetrail_cli.ops.dnc import dnc_app
from voicetrail_cli.ops.quarantine import quarantine_app
from voicetrail_cli.ops.report.command import report
from voicetrail_cli.ops.sign import sign

app = typer.Typer(
    name="voicetrail",
    cls=VoicetrailGroup,  # ordinary mistakes: one line and a non-zero exit code (voicetrail_cli.failures)
    help="voicetrail: compliance backbone for Vapi + Twilio webhooks (local API, signing, demo, operations).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


def version() -> str:
    """The installed distribution's version (pyproject.toml), else the source tree's."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("voicetrail")
    except PackageNotFoundError:  # run from a checkout without `pip install -e .`
        import tomllib
        from pathlib import Path

        pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
        return str(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"])


def _print_version(value: bool) -> None:
    if value:
        print(f"voicetrail {version()}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    debug: Annotated[
        bool, typer.Option("--debug", envvar=DEBUG_ENV, help="Show the traceback of an error.")
    ] = False,
    _version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    ctx.obj = {"debug": debug}


# The order here is the order of `voicetrail --help` (commands first, then the groups).
app.command("report")(report)  # ROI report (docs/operations/dashboards.md)
app.command("simulate")(simulate)  # load/fault/attack proof (docs/proof/index.md)
compliance.register(app)  # erase, purge, evidence, audit verify|export
app.command("serve")(serve)  # the local stack (voicetrail_cli/dev/local.py)
app.command("sign")(sign)  # curl-ready signed headers
app.command("demo")(demo)  # the local stack, a replayed call, what was stored
app.add_typer(calls_app, name="calls")  # calls list|show
app.add_typer(config_app, name="config")  # config validate|put|get|list
app.add_typer(quarantine_app, name="quarantine")  # quarantine list|replay (voicetrail_cli/ops/quarantine.py)
app.add_typer(dnc_app, name="dnc")  # the pre-dial gate's do-not-call list (voicetrail_cli/ops/dnc.py)


PIPED_HELP_WIDTH = 120  # wide enough that no option name or metavar of any command is cut


def _piped_help_width() -> None:
    """Piped or redirected, rich lays help out for 80 columns and cuts long option names
    (`--parameter-overrid…`): give it room, unless the user chose a width (COLUMNS, TERMINAL_WIDTH)."""
    import os
    import sys

    import typer.rich_utils

    if not sys.stdout.isatty() and not os.environ.get("COLUMNS") and typer.rich_utils.MAX_WIDTH is None:
        typer.rich_utils.MAX_WIDTH = PIPED_HELP_WIDTH


def main() -> None:
    _piped_help_width()
    app()


if __name__ == "__main__":
    main()
