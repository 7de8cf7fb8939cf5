from __future__ import annotations

from fastapi import APIRouter

from isnad.service.api.deps import StateDep
from isnad.service.api.schemas import HealthOut

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthOut)
def health(state: StateDep) -> HealthOut:
    index = state.index
    return HealthOut(status="ok", documents=len(index.documents), chunks=len(index.chunks), model=index.manifest.model)
