"""``/api/v1``: reviews endpoints (in progress)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["reviews"])
