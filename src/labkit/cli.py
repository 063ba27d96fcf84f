"""The `labkit` command: thin. Parse arguments, call the API, map LabkitError to exit 2.

Subcommands live next to the code they drive and are imported only when used, so `labkit --help` is instant.
Exit codes: 0 ok, 2 bad input (LabkitError), 1 failure (a check that failed, an unreachable robot).
Global options -q / -v and each command's --json are handled by labkit.cli_support (one place for every command).
"""

from __future__ import annotations

import importlib
import sys
import time

import click

from labkit import __version__, cli_support
from labkit.errors import LabkitError

# name -> ("module", "attribute", "one-line help shown by `labkit --help`")
SUBCOMMANDS: dict[str, tuple[str, str, str]] = {
    "init": ("labkit.examples.cli", "init", "Write the example layouts into a folder to start from."),
    "layout": ("labkit.layout.cli", "layout", "Validate, show and describe plate layouts."),
    "protocol": ("labkit.protocol.cli", "protocol", "Generate a standalone Opentrons protocol from a layout."),
    "simulate": ("labkit.simulate.cli", "simulate", "Run the Opentrons analysis on a protocol and verify it."),
    "import": ("labkit.readout.cli", "import_cmd", "Import a plate-reader / counter export as a tidy table."),
    "fit": ("labkit.analysis.cli", "fit", "Fit dose-response curves (model selection, bounds, outliers) to a long-form table."),
    "analyze": ("labkit.analysis.cli", "analyze", "Normalize, fit and report a readout joined to its layout."),
    "combine": ("labkit.analysis.cli", "combine", "Combine independent runs: geometric-mean IC50, CI and MSR."),
    "demo": ("labkit.demo", "demo", "Run the whole chain on the seed layouts with a virtual readout."),
    "upload": ("labkit.upload", "upload", "Send a protocol to an Opentrons robot over its HTTP API."),
    "runs": ("labkit.store.cli", "runs", "List, show and export the analyses recorded in the run store."),
    "history": ("labkit.store.cli", "history", "Control charts and potency across the recorded runs of an assay."),
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in SUBCOMMANDS:
            return None
        module, attr, _ = SUBCOMMANDS[name]
        command = getattr(importlib.import_module(module), attr)
        if not isinstance(command, click.Command):  # a wrong SUBCOMMANDS entry: a bug, not the user's input
            raise TypeError(f"{module}.{attr} is not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, help_) for name, (_, _, help_) in SUBCOMMANDS.items()])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="labkit")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors and the final verdict / result paths.")
@click.option("-v", "--verbose", count=True, help="Print extra detail (planner warnings, notes, timings).")
def cli(quiet: bool, verbose: int) -> None:
    """labkit: plate layout -> Opentrons protocol -> simulation -> reader import -> IC50 table.

    Every command that reports takes --json (one JSON document on standard output; an error as
    {"ok": false, "error": {...}} with the same exit code). Progress bars go to standard error, only on a
    terminal, and not with -q or --json.

    \b
    Example:
      labkit layout validate layouts/*.yaml
      labkit protocol layouts/kinase_panel_384.yaml --robot flex -o protocols/kinase_flex.py
      labkit -q demo -o out
      labkit simulate protocols/kinase_panel_flex.py --json > kinase_flex.json
    """
    if quiet and verbose:
        raise click.UsageError("-q and -v contradict each other; give one")
    cli_support.reset(-1 if quiet else verbose)


@cli.result_callback()
def _finished(rv: object, quiet: bool, verbose: int) -> object:
    ctx = click.get_current_context()
    ui = cli_support.ui()
    ui.detail(f"labkit {ctx.invoked_subcommand or ''}: {time.perf_counter() - ui.started:.2f} s".replace("  ", " "))
    return rv


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    args = list(sys.argv[1:] if argv is None else argv)
    cli_support.reset()
    try:
        rv = cli.main(args=args, prog_name="labkit", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:  # usage errors: bad option, missing file
        if cli_support.wants_json(args):
            click.echo(cli_support.dumps(cli_support.error_doc(exc, 2)))
        exc.show()
        sys.exit(2)
    except click.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except LabkitError as exc:
        if cli_support.wants_json(args):  # the document a --json caller parses; the message still on stderr
            click.echo(cli_support.dumps(cli_support.error_doc(exc, exc.exit_code)))
        click.echo(f"labkit: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    sys.exit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
