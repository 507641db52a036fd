"""``/api/v1``: okrs endpoints (in progress)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["okrs"])
