"""``mltrl evidence``: record evidence for a technology's level (add), a JUnit XML test report
(junit), and list what was recorded (list). With ``MLTRL_SERVER`` and ``MLTRL_TOKEN`` set, each
acts through the dashboard's API, which is how a CI job posts its test report:

    mltrl evidence junit R02.1 report.xml --level 4 --criterion tests-pass --url "$RUN_URL"
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

import typer

from mltrl.cli.common import JsonOption, noun, read_input, remote_client, remote_records, say, say_json, session, write

app = noun("Evidence for a level's gates: test reports, model versions, documents.")

CodeArgument = Annotated[str, typer.Argument(help="Project ID.")]
LevelOption = Annotated[int, typer.Option("--level", help="The level (0-9) the evidence is for.")]
CriterionOption = Annotated[str | None, typer.Option("--criterion", help="The key of the level's exit criterion "
                                                                        "it speaks to (see `mltrl review criteria`).")]
RequirementOption = Annotated[str | None, typer.Option("--requirement", help="The number of a requirement it speaks to.")]
UrlOption = Annotated[str, typer.Option("--url", help="A link to it (the CI run, the MLflow run, the document).")]
SourceOption = Annotated[str | None, typer.Option("--source", help="The system it came from (GitHub Actions, ...).")]
ExternalOption = Annotated[str | None, typer.Option("--external-id", help="Its id in that system: sent twice, "
                                                                         "recorded once (a CI run's id).")]
WhenOption = Annotated[str | None, typer.Option("--produced-at", help="When it was produced, ISO 8601 (default: now).")]


def _said(record: dict, created: bool) -> None:
    where = f"level {record['level']}" + (f", criterion {record['criterion']}" if record.get("criterion") else "")
    if not created:
        say(f"{record['code']}: evidence {record['id']} ({record['external_id']}) was recorded already; nothing added")
        return
    say(f"{record['code']}: recorded evidence {record['id']} for {where}: {record['status']} - {record['title']}")


@app.command("add")
def evidence_add(
    code: CodeArgument,
    level: LevelOption,
    kind: Annotated[str, typer.Option("--kind", help="ci-run | test-report | mlflow-run | model-version | "
                                                     "model-card | document | dashboard | other")],
    status: Annotated[str, typer.Option("--status", help="pass | fail | info (info never scores a criterion).")],
    title: Annotated[str, typer.Option("--title", help="What it is, in a line.")],
    url: UrlOption = "",
    criterion: CriterionOption = None,
    requirement: RequirementOption = None,
    metric: Annotated[list[str] | None, typer.Option("--metric", help="name=value, as often as needed "
                                                                     "(--metric accuracy=0.93).")] = None,
    source: SourceOption = None,
    produced_at: WhenOption = None,
    external_id: ExternalOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record one piece of evidence for a level (and optionally one exit criterion or requirement)."""
    fields = {"level": level, "kind": kind, "status": status, "title": title, "url": url, "criterion": criterion,
              "requirement": requirement, "metrics": list(metric or []), "source": source or "command line",
              "produced_at": produced_at, "external_id": external_id}
    client = remote_client()
    if client is not None:
        from mltrl.domain import evidence as rules

        body = fields | {"metrics": rules.metrics_of(fields["metrics"])}  # name=value read here, checked there
        record = client.request("POST", f"/projects/{quote(code, safe='')}/evidence", body=body)
        created = record.pop("created", True)
    else:
        from mltrl.services import reviews

        record, created = _recorded(code, write(reviews.add_evidence, code=code, **fields))
    _report(record, created, as_json)


@app.command("junit")
def evidence_junit(
    code: CodeArgument,
    report: Annotated[str, typer.Argument(help="The JUnit XML file (pytest --junitxml, Maven Surefire, Jest...).")],
    level: LevelOption,
    criterion: CriterionOption = None,
    requirement: RequirementOption = None,
    url: UrlOption = "",
    title: Annotated[str | None, typer.Option("--title", help="Default: the counts (12 passed, 0 failed).")] = None,
    source: SourceOption = None,
    external_id: ExternalOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a JUnit XML test report as one piece of evidence: pass when no test failed."""
    from mltrl.domain import evidence as rules

    data = read_input(report, field="report", limit=rules.JUNIT_MAX_BYTES, text=False)
    client = remote_client()
    if client is not None:
        record = client.request("POST", f"/projects/{quote(code, safe='')}/evidence/junit", text=data.decode(
            "utf-8", errors="replace"), content_type="application/xml", params={
            "level": level, "criterion": criterion, "requirement": requirement, "url": url or None,
            "title": title, "source": source, "external_id": external_id})
        created = record.pop("created", True)
    else:
        from mltrl.services import reviews

        record, created = _recorded(code, write(reviews.add_junit_report, code=code, report=data, level=level,
                                          criterion=criterion, requirement=requirement, url=url, title=title,
                                          source=source or "JUnit XML", external_id=external_id))
    _report(record, created, as_json)


def _recorded(code: str, added) -> tuple[dict, bool]:
    """A local ``Added`` as the API's record (read again in a fresh session: the write's is closed)."""
    from mltrl.domain import days
    from mltrl.services import projects, reviews
    from mltrl.services.policy import current_policy

    with session() as s:
        project = projects.get_project(s, code)
        row = reviews.evidence_by_id(s, project.code, added.record.id)
        return reviews.evidence_record(row, project, current_policy(s), days.now()), added.created


def _report(record: dict, created: bool, as_json: bool) -> None:
    if as_json:
        say_json(record | {"created": created})
        return
    _said(record, created)
    if record.get("metrics"):
        say("  " + ", ".join(f"{k}={v:g}" for k, v in record["metrics"].items()))
    if record.get("stale"):
        say(f"  stale: {record['stale']}", err=True)


@app.command("list")
def evidence_list(
    code: CodeArgument,
    level: Annotated[int | None, typer.Option("--level", help="Only this level's.")] = None,
    criterion: Annotated[str | None, typer.Option("--criterion", help="Only this criterion's.")] = None,
    as_json: JsonOption = False,
) -> None:
    """A technology's evidence, newest first."""
    client = remote_client()
    if client is not None:
        records = remote_records(client, f"/projects/{quote(code, safe='')}/evidence", level=level,
                                 criterion=criterion)
    else:
        from mltrl.domain import days
        from mltrl.services import projects, reviews
        from mltrl.services.policy import current_policy

        with session() as s:
            project = projects.get_project(s, code)
            policy, now = current_policy(s), days.now()
            records = [reviews.evidence_record(r, project, policy, now)
                       for r in reviews.evidence_of(s, code, level=level, criterion=criterion)]
    if as_json:
        say_json(records)
        return
    if not records:
        say(f"{code} has no evidence yet" + (f" at level {level}" if level is not None else ""))
    for r in records:
        stale = "  (stale)" if r["stale"] else ""
        target = r["criterion"] or (f"req {r['requirement']}" if r["requirement"] else "-")
        say(f"{r['produced_at'][:10]}  L{r['level']}  {target:<24} {r['status']:<4}  {r['kind']:<13} {r['title']}{stale}")
