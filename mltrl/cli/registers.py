"""``mltrl requirements`` and ``mltrl risks``: the two registers as CSV, and the 5x5 matrix."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

import typer

from mltrl.cli.common import (
    ForceOption,
    JsonOption,
    noun,
    output_file,
    read_input,
    remote_client,
    say,
    say_json,
    session,
    write,
    write_output,
)

requirements_app = noun("The requirements register: CSV export and import.")
risks_app = noun("The risk register: CSV export and import, the 5x5 matrix.")

CodeArgument = Annotated[str, typer.Argument(help="Project ID.")]
OutFile = Annotated[str, typer.Argument(help="CSV file to write (- for stdout).")]
InFile = Annotated[str, typer.Argument(help="CSV file with a header row.")]


def _export_register(export, code: str, file: str, force: bool) -> None:
    target = output_file(file, field="file", force=force, stdout_dash=True)
    client = remote_client()
    if client is not None:
        register = "requirements" if export.__name__ == "export_requirements" else "risks"
        text = client.request("GET", f"/projects/{quote(code, safe='')}/{register}.csv", raw=True)
    else:
        with session() as s:
            text = export(s, code)
    if target is None:
        say(text, nl=False)
        return
    write_output(target, text, field="file")
    say(f"wrote {max(text.count(chr(10)) - 1, 0)} rows of {code} to {file}", err=True)


def _import_register(use_case, code: str, file: str) -> None:
    from mltrl.domain import csvcells

    text = read_input(file, field="file", limit=csvcells.FILE_MAX_BYTES)  # refused before it is read whole
    summary = write(use_case, code=code, text=text)
    say(f"{code}: {summary.added} added, {summary.updated} updated")


@requirements_app.command("export")
def requirements_export(code: CodeArgument, file: OutFile, force: ForceOption = False) -> None:
    """Write the requirements register as CSV (number,kind,statement,level,verification_method,...)."""
    from mltrl.services import risks

    _export_register(risks.export_requirements, code, file, force)


@requirements_app.command("import")
def requirements_import(code: CodeArgument, file: InFile) -> None:
    """Add or update (by number) the requirements of a CSV file, all or nothing."""
    from mltrl.services import risks

    _import_register(risks.import_requirements, code, file)


@risks_app.command("export")
def risks_export(code: CodeArgument, file: OutFile, force: ForceOption = False) -> None:
    """Write the risk register as CSV (title,description,category,component,requirement,...)."""
    from mltrl.services import risks

    _export_register(risks.export_risks, code, file, force)


@risks_app.command("import")
def risks_import(code: CodeArgument, file: InFile) -> None:
    """Add or update (by title) the risks of a CSV file, all or nothing."""
    from mltrl.services import risks

    _import_register(risks.import_risks, code, file)


@risks_app.command("matrix")
def risks_matrix(code: Annotated[str | None, typer.Argument(help="Project ID (default: the whole portfolio).")] = None,
                 requirements: Annotated[bool, typer.Option("--requirements", help="Count requirements instead of risks.")] = False,
                 as_json: JsonOption = False) -> None:
    """The 5x5 cell counts of risks that are not closed (or of requirements)."""
    from mltrl.domain import risk as rules

    client = remote_client()
    if client is not None:
        path = "/risk-matrix" if code is None else f"/projects/{quote(code, safe='')}/risk-matrix"
        answer = client.request("GET", path, params={"requirements_matrix": "true" if requirements else None})
        counts = {(c["p_band"], c["value_band"]): c["count"] for c in answer["cells"] if c["count"]}
    else:
        from mltrl.services import risks

        with session() as s:
            counts = risks.matrix_counts(s, code, requirements_matrix=requirements)
    cells = rules.matrix_cells(counts)
    if as_json:
        say_json(cells)
        return
    say("p(failure) band \\ value band: " + "  ".join(f"{lab:>5}" for lab in rules.VALUE_BAND_LABELS))
    for pb in reversed(rules.BANDS):
        row = [str(counts.get((pb, vb), 0)) for vb in rules.BANDS]
        say(f"{rules.P_BAND_LABELS[pb - 1]:>31}: " + "  ".join(f"{n:>5}" for n in row))
