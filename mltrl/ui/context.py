"""The page's view of the database: one cached engine per URL, short sessions, cached reads.

Heavy reads are cached with ``st.cache_data`` keyed on (database URL, data version); every write
moves the data version on (see ``mltrl.db.data_version``), so a cached result is never stale and a
rerun after a click costs one tiny query.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st
from sqlalchemy import Engine
from sqlmodel import Session

from mltrl import db
from mltrl.domain.errors import Unauthenticated
from mltrl.services import Actor, acting, portfolio, projects

# Single-user mode's acting name when no cookie carries it: AppTest cannot send cookies, so page
# tests put the name here (no widget has this key, and a browser cannot set session state).
ACTOR_KEY = "actor_name"
NAME_NEEDED = ("Give your name before you change anything: nothing was saved. Use *Give your name* in the "
               "sidebar; this browser then remembers it.")


class NameRequired(Unauthenticated):
    """A write from a browser that has not said who is acting (single-user mode): refused, since
    the history and the audit trail must name the person who made each change."""

    def __init__(self) -> None:
        super().__init__(NAME_NEEDED)


def database_url() -> str:
    return db.database_url()


@st.cache_resource(show_spinner="Opening the database…", on_release=lambda eng: eng.dispose())
def _engine(url: str) -> Engine:
    db.upgrade_db(url)
    return db.make_engine(url)


def engine() -> Engine:
    return _engine(database_url())


@contextmanager
def session() -> Iterator[Session]:
    with db.session_scope(engine()) as s:
        yield s


def data_version() -> int:
    with session() as s:
        return db.data_version(s)


def acting_name() -> str | None:
    """Who is acting, or None when nobody has said: the signed-in account; in single-user mode the
    name this browser gave through ``/acting-as`` (its cookie, read with ``st.context.cookies``;
    in AppTest ``ACTOR_KEY``). Never the server's login name or ``$MLTRL_USER``: those name whoever
    started the process, not the person at the browser (the CLI keeps them as its default)."""
    signed_in = st.session_state.get("signed_in")
    if signed_in:
        return signed_in
    try:
        raw = st.context.cookies.get(acting.ACTING_AS_COOKIE)
    except Exception:  # no request context (a bare script run)
        raw = None
    name = acting.name_from_cookie(raw) if isinstance(raw, str) else None  # AppTest answers with a stand-in
    if name is None:
        seam = st.session_state.get(ACTOR_KEY)
        name = acting.valid_name(seam)
    return name


def actor() -> Actor:
    """The acting user, for a write (or a read the services authorize): see ``acting_name``. A
    browser that gave no name is refused with ``NameRequired`` (an ``MltrlError``, so the page's
    ``feedback.run_use_case`` shows it and nothing is written)."""
    name = acting_name()
    if name is None:
        raise NameRequired()
    return Actor(name)


@st.cache_data(show_spinner=False, max_entries=8)
def _portfolio(url: str, version: int) -> pd.DataFrame:
    with db.session_scope(_engine(url)) as s:
        return portfolio.portfolio_frame(s)


@st.cache_data(show_spinner=False, max_entries=64)
def _read(url: str, version: int, name: str, _fn: Callable[..., Any], args: tuple, kwargs: tuple) -> Any:
    with db.session_scope(_engine(url)) as s:  # ``name`` keys the cache; ``_fn`` is not hashed
        return _fn(s, *args, **dict(kwargs))


def cached_read(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(session, *args, **kwargs)`` for a read-only service, cached until the next write (a
    rerun after a click, a tab switch, costs one tiny query). Arguments must be hashable by
    ``st.cache_data``; pass time-dependent inputs (``now``) explicitly, rounded."""
    return _read(database_url(), data_version(), f"{fn.__module__}.{fn.__qualname__}", fn, args,
                 tuple(sorted(kwargs.items())))


@st.cache_data(show_spinner=False, max_entries=8)
def _index(url: str, version: int) -> list[tuple[int, str, str]]:
    with db.session_scope(_engine(url)) as s:
        return projects.project_index(s)


@dataclass(frozen=True)
class Technologies:
    """Every technology's code (in order), name and id, for pickers (cached until the next write)."""

    codes: list[str]
    names: dict[str, str]
    code_of: dict[int, str]


def technologies() -> Technologies:
    rows = _index(database_url(), data_version())
    return Technologies(codes=[c for _, c, _ in rows], names={c: n for _, c, n in rows},
                        code_of={i: c for i, c, _ in rows})


def portfolio_frame() -> pd.DataFrame:
    """The portfolio table (cached until the next write)."""
    return _portfolio(database_url(), data_version())


def version_seen(code: str, current: int) -> int:
    """The version of ``code`` the user was looking at when they acted.

    A form's submit arrives in a new script run that re-reads the database, so the version to
    check against is the one the *previous* run showed, kept here per technology. A write made by
    someone else in between then surfaces as a conflict instead of being built upon blindly.
    """
    key = f"_seen_version_{code}"
    seen = st.session_state.get(key, current)
    st.session_state[key] = current
    return seen


def quarter_report(quarter: str, *, as_of: datetime, samples: int, seed: int) -> Any:
    """The quarterly review (``services.okr_report.quarter_report``) from the cached event table
    (shared with the Analytics page), itself cached until the next write."""
    from mltrl.services import analytics as reads

    events = cached_read(reads.event_table)
    return _quarter_report(database_url(), data_version(), quarter, as_of, samples, seed, events)


@st.cache_data(show_spinner=False, max_entries=16)
def _quarter_report(url: str, version: int, quarter: str, as_of: datetime, samples: int, seed: int,
                    _events: Any) -> Any:  # the event table is keyed by the data version, not hashed
    from mltrl.services import okr_report

    with db.session_scope(_engine(url)) as s:
        return okr_report.quarter_report(s, quarter, as_of=as_of, samples=samples, seed=seed, events=_events)
