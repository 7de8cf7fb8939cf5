"""Dependencies shared by the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from isnad.service.state import ServiceState


def get_state(request: Request) -> ServiceState:
    state: ServiceState | None = getattr(request.app.state, "isnad", None)
    if state is None:
        raise HTTPException(status_code=503, detail="the index is not loaded yet; try again shortly")
    return state


StateDep = Annotated[ServiceState, Depends(get_state)]
