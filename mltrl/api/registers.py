"""``/api/v1``: registers endpoints (in progress)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["registers"])
