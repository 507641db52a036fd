"""The pure rules of an MLflow link (``mltrl.domain.registry``): the card's block, the proposal of
the embedded 9 -> 7, and MLflow's webhook signature (checked against mlflow's own signing helper)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from mltrl.domain import registry as rules

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)


def _v(n: str, aliases=(), metrics=None) -> rules.Version:
    return rules.Version(number=n, created=NOW, run_id="r", status="READY", source="runs:/r/model",
                         aliases=tuple(aliases), metrics=metrics or {})


team_text = st.text(st.characters(blacklist_characters="<>", blacklist_categories=("Cs",)), max_size=200)


@given(before=team_text, after=team_text)
def test_the_block_replaces_only_itself_and_keeps_the_teams_text(before, after):
    old = rules.block([_v("1")], model_name="m", deployed_alias="champion")
    new = rules.block([_v("1", ["champion"]), _v("2")], model_name="m", deployed_alias="champion")
    text = f"{before}\n{old}\n{after}"
    replaced = rules.with_block(text, new)
    assert replaced == f"{before}\n{new}\n{after}"
    assert rules.with_block(replaced, new) == replaced  # idempotent: a second sync changes nothing


def test_the_block_is_appended_when_absent_and_lists_newest_first():
    block = rules.block([_v("1", ["champion"], {"acc": 0.8123456}), _v("10"), _v("2")], model_name="m|x",
                        deployed_alias="champion")
    assert rules.with_block("", block) == block
    assert rules.with_block("Our notes.\n", block) == f"Our notes.\n\n{block}"
    rows = [line for line in block.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert [r.split(" | ")[0] for r in rows] == ["| 10", "| 2", "| 1"]
    assert "| 1 | **champion** |" in block and "acc 0.8123" in block and "m\\|x" in block


def test_a_moved_alias_proposes_only_on_a_deployed_technology():
    assert rules.proposal(previous="1", current="2", level=9, seen_at=NOW, pending=None) == {
        "from": "1", "to": "2", "seen_at": NOW.isoformat()}
    assert rules.proposal(previous="1", current="2", level=7, seen_at=NOW, pending=None) is None
    assert rules.proposal(previous=None, current="2", level=9, seen_at=NOW, pending=None) is None
    assert rules.proposal(previous="1", current="1", level=9, seen_at=NOW, pending=None) is None
    pending = {"from": "1", "to": "2", "seen_at": NOW.isoformat()}
    assert rules.proposal(previous="2", current="3", level=9, seen_at=NOW, pending=pending)["from"] == "1"
    assert rules.proposal(previous="2", current="1", level=9, seen_at=NOW, pending=pending) is None  # moved back


@given(secret=st.text(min_size=16, max_size=64), payload=st.text(max_size=300), delivery=st.uuids())
def test_the_signature_is_mlflows(secret, payload, delivery):
    from mlflow.webhooks.delivery import _generate_hmac_signature

    stamp = str(int(NOW.timestamp()))
    theirs = _generate_hmac_signature(secret, str(delivery), stamp, payload)
    assert rules.signature(secret, str(delivery), stamp, payload) == theirs
    assert rules.signature_matches(secret, str(delivery), stamp, payload, theirs)
    assert not rules.signature_matches(secret + "x", str(delivery), stamp, payload, theirs)
    assert not rules.signature_matches(secret, str(delivery), stamp, payload + " ", theirs)


def test_a_delivery_older_or_newer_than_five_minutes_is_not_fresh():
    stamp = lambda delta: str(int((NOW + delta).timestamp()))
    assert rules.fresh(stamp(timedelta(minutes=-4)), NOW) and rules.fresh(stamp(timedelta(minutes=4)), NOW)
    assert not rules.fresh(stamp(timedelta(minutes=-6)), NOW) and not rules.fresh(stamp(timedelta(minutes=6)), NOW)
    assert not rules.fresh("soon", NOW) and not rules.fresh("", NOW)


def test_metrics_a_record_cannot_hold_are_left_out_by_name():
    kept, left = rules.usable_metrics({"acc": 0.9, "loss": float("nan"), "bad name!": 1.0, "n": 3})
    assert kept == {"acc": 0.9, "n": 3.0} and sorted(left) == ["bad name!", "loss"]
