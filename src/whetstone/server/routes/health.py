from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from whetstone import __version__

router = APIRouter(tags=["health"])


@router.get("/api/health", summary="Liveness; needs no key")
async def health() -> dict[str, Any]:
    return {"data": {"status": "ok", "version": __version__}, "meta": {}}
