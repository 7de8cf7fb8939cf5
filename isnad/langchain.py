"""`IsnadRetriever`: Isnad's search as a LangChain retriever (the `langchain` extra).

    IsnadRetriever(url="http://127.0.0.1:8000", key="…", k=4)   # a running server
    IsnadRetriever(index="index", k=4)                          # an index folder, in this process

Each Document's `page_content` is a passage, exactly `text[start:end]` of the article `metadata["doc_id"]`;
`metadata` also has start, end, url, site, published, title, chunk_id and score. `invoke(query, k=N)` overrides
`k` for one call. A refused query raises `isnad.client.IsnadError` with the API's message.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field, PrivateAttr, model_validator

from isnad.client import Archive, Client, Local, Passage


@functools.lru_cache(maxsize=4)
def _local(index: Path) -> Local:
    """One loaded index per folder in a process: retrievers are cheap to make, an index is not."""
    return Local(index)


def to_document(p: Passage) -> Document:
    return Document(page_content=p.text, id=f"{p.doc_id}:{p.start}-{p.end}",
                    metadata={"doc_id": p.doc_id, "start": p.start, "end": p.end, "url": p.url, "site": p.site,
                              "published": p.published, "title": p.title, "chunk_id": p.chunk_id,
                              "score": p.score})


class IsnadRetriever(BaseRetriever):
    """Passages of an Isnad archive: give `url` (and `key` once the server has read keys) or `index`."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    url: str | None = None
    key: str | None = Field(default=None, repr=False)
    index: str | Path | None = None
    k: int = Field(default=4, ge=1, le=50)
    filters: dict[str, Any] | None = None
    timeout: float = 30.0
    _archive: Archive | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _one_source(self) -> IsnadRetriever:
        if (self.url is None) == (self.index is None):
            raise ValueError("give either url (a running Isnad server) or index (an index folder), not both")
        return self

    def archive(self) -> Archive:
        if self._archive is None:
            self._archive = (Client(self.url, self.key, self.timeout) if self.url is not None
                             else _local(Path(self.index).resolve()))  # type: ignore[arg-type]
        return self._archive

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun,
                                **kwargs: Any) -> list[Document]:
        k = kwargs.get("k", self.k)
        filters = kwargs.get("filters", self.filters)
        return [to_document(p) for p in self.archive().search(query, k, filters)]
