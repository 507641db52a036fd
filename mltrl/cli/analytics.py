"""``mltrl analytics``: the level history's arithmetic (time per level)."""

from __future__ import annotations

from mltrl.cli.common import AsOfOption, JsonOption, noun, say, say_json, session

app = noun("Analytics of the level history: time per level.")


@app.command("time-per-level")
def analytics_time_per_level(as_of: AsOfOption = None, as_json: JsonOption = False) -> None:
    """Days each technology spent at each level it has held: total, completed stays, the ongoing
    stay, and the number of stays (the ongoing one included)."""
    from mltrl.services import analytics as reads

    with session() as s:
        records = reads.time_per_level(s, as_of=as_of)
    if as_json:
        say_json(records)
        return
    if not records:
        say("no level history yet")
        return
    say(f"{'code':<12} {'level':>5} {'days':>10} {'completed':>10} {'ongoing':>10} {'stays':>6}")
    for r in records:
        say(f"{r['code']:<12} {r['level']:>5} {r['days']:>10.2f} {r['completed_days']:>10.2f} "
            f"{r['ongoing_days']:>10.2f} {r['intervals']:>6}")
