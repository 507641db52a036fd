"""The API area: ``/api/v1`` requests as a script sends them, through the ASGI app in this process
(Starlette's TestClient: the routing, the token check, the services and the JSON, without the
network), on a throwaway copy of the size's database with an admin and a token added (untimed).

Measured: list projects (the first page of 100, and the whole portfolio in pages of 500), one
level move (graduate the long card's technology; an untimed switch back before each run keeps it
in place), and one card save (the long card, with the revision it was based on as ``If-Match``;
the untimed ``before`` reads the card and varies it). Each answer is checked as it is timed: the
status, and the count or the new revision.
"""

from __future__ import annotations

import os
import random
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench import cardgen, generate
from bench.common import copy_db, median_ms

ADMIN = "bench-admin"


def measure_api_ops(db_path: Path, runs: int, size: str, log: Callable[[str], None], counts: dict) -> dict[str, dict]:
    from starlette.applications import Starlette
    from starlette.routing import Mount
    from starlette.testclient import TestClient

    from mltrl import db
    from mltrl.api import api
    from mltrl.services import Actor, tokens, users

    items: dict[str, dict] = {}
    code = cardgen.LONG_CARD_CODE
    with tempfile.TemporaryDirectory(prefix="mltrl-bench-api-") as tmp:
        copy = copy_db(db_path, Path(tmp))
        url = f"sqlite:///{copy}"
        db.upgrade_db(url)
        engine = db.make_engine(url)
        with db.session_scope(engine) as s:
            users.create_first_admin(session=s, actor=Actor(ADMIN), name=ADMIN, password="bench-password-1")
            secret, _ = tokens.create_token(session=s, actor=Actor(ADMIN), name="bench")
        engine.dispose()
        old = os.environ.get("MLTRL_DATABASE_URL")
        os.environ["MLTRL_DATABASE_URL"] = url
        try:
            client = TestClient(Starlette(routes=[Mount("/api/v1", app=api)]), base_url="http://bench",
                                headers={"Authorization": f"Bearer {secret}"})

            def timed(name: str, fn: Callable[[], object], before: Callable[[], object] | None = None) -> None:
                res = median_ms(fn, runs, before=before)
                items[name] = dict(kind="api-op", **res)
                log(f"{name} {res['median_ms']:.0f} ms")

            def first_page() -> None:
                answer = client.get("/api/v1/projects", params={"limit": 100})
                assert answer.status_code == 200, answer.text
                assert answer.json()["total"] == counts["projects"]

            def every_page() -> None:
                seen, offset = 0, 0
                while True:
                    answer = client.get("/api/v1/projects", params={"limit": 500, "offset": offset}).json()
                    seen += len(answer["items"])
                    offset += 500
                    if "next" not in answer:
                        break
                assert seen == counts["projects"], (seen, counts["projects"])

            timed("api: list projects, first page of 100", first_page)
            timed("api: list projects, all pages of 500", every_page)

            start = client.get(f"/api/v1/projects/{code}").json()["level"]

            def back() -> None:  # untimed: put the technology back where it was
                level = client.get(f"/api/v1/projects/{code}").json()["level"]
                if level != start:
                    answer = client.post(f"/api/v1/projects/{code}/level/switchback",
                                         json={"level": start, "kind": "discovery"})
                    assert answer.status_code == 200, answer.text

            def graduate() -> None:
                answer = client.post(f"/api/v1/projects/{code}/level/graduate", json={"note": "bench"})
                assert answer.status_code == 200 and answer.json()["event"]["to_level"] == start + 1, answer.text

            if start is not None and start < 9:
                timed("api: one level move (graduate)", graduate, before=back)

            rng = random.Random(11)
            pending: dict = {}
            codes = [r["code"] for r in client.get("/api/v1/projects", params={"limit": 500}).json()["items"]]

            def next_card() -> None:  # untimed: what the script holds when it saves
                answer = client.get(f"/api/v1/projects/{code}/card")
                from mltrl.domain.cards import Card

                card, summary = cardgen.vary(Card.from_dict(answer.json()["card"]), rng,
                                             answer.json()["revision"] + 1, cardgen.link_pool(codes), generate.OWNERS)
                pending.update(etag=answer.headers["etag"], body={"card": card.to_dict(), "summary": summary},
                               base=answer.json()["revision"])

            def save() -> None:
                answer = client.put(f"/api/v1/projects/{code}/card", json=pending["body"],
                                    headers={"If-Match": pending["etag"]})
                assert answer.status_code == 200 and answer.json()["revision"] == pending["base"] + 1, answer.text

            timed("api: one card save (the long card)", save, before=next_card)
        finally:
            if old is None:
                os.environ.pop("MLTRL_DATABASE_URL", None)
            else:
                os.environ["MLTRL_DATABASE_URL"] = old
            db.dispose_engines()
    return items
