"""Who may write: only callers presenting ISNAD_API_KEY as a bearer token; no key configured = read-only."""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request

from service.settings import Settings

READ_ONLY = "the service is read-only: set ISNAD_API_KEY to enable writes"


def require_writer(request: Request) -> None:
    settings: Settings = request.app.state.settings
    key = settings.api_key.get_secret_value() if settings.api_key else ""
    if not key:
        raise HTTPException(status_code=403, detail=READ_ONLY)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    # compare_digest: the time taken must not reveal how much of the key matched.
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), key.encode()):
        raise HTTPException(status_code=401, detail="missing or wrong API key: send Authorization: Bearer <key>",
                            headers={"WWW-Authenticate": 'Bearer realm="isnad"'})
