"""`labkit init DIR`: start a project folder from the example layouts."""

from __future__ import annotations

from pathlib import Path

import click

from labkit.cli_support import json_option, ui


@click.command("init", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path), default=Path("."))
@click.option("--force", is_flag=True, help="Replace example layouts that already exist in FOLDER/layouts.")
@json_option
def init(folder: Path, force: bool, as_json: bool) -> int:
    """Write the example layouts (kinase panel, CellTiter-Glo plates, dilution tutorial) into FOLDER/layouts.

    \b
    Example:
      labkit init my-screen && cd my-screen
      labkit layout show layouts/kinase_panel.yaml
      labkit protocol layouts/kinase_panel.yaml --robot flex -o kinase_flex.py
    """
    from labkit.examples import write_examples

    out = ui()
    written = write_examples(folder, force=force)
    for path in written:
        out.result(f"wrote {path}")
    out.say(f"next: labkit layout show {folder / 'layouts'}/<file>.yaml, labkit protocol …, labkit demo")
    if out.json:
        out.emit({"ok": True, "folder": folder, "wrote": list(written)})
    return 0
