"""The archive's write lease on a real Milvus (milvus-lite): one holder at a time among racing writers, a busy
lease named after the timeout, a dead holder's lease taken once it expires, a lost lease stopping its writer."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from isnad.indexer.stores.milvus_lease import LEASE_ROW, LeaseBusy, WriteLease
from isnad.indexer.stores.milvus_tables import MilvusMeta, connect

pytestmark = pytest.mark.slow


@pytest.fixture
def meta(tmp_path: Path) -> Iterator[MilvusMeta]:
    uri = str(tmp_path / "lease.db")
    yield MilvusMeta(connect(uri), "lease_meta", create=True)
    from milvus_lite.server_manager import server_manager_instance

    server_manager_instance.release_server(uri)


def test_racing_writers_hold_it_one_at_a_time(meta: MilvusMeta) -> None:
    inside: list[str] = []
    overlaps: list[tuple[str, ...]] = []
    guard = threading.Lock()
    start = threading.Barrier(3)

    def writer(name: str) -> None:
        start.wait()  # all three read the lease free at about the same moment
        for _ in range(2):
            with WriteLease(meta, name).acquire(timeout_s=120):
                with guard:
                    inside.append(name)
                    if len(inside) > 1:
                        overlaps.append(tuple(inside))
                time.sleep(0.3)  # work while holding it: another holder would show up in `inside`
                with guard:
                    inside.remove(name)

    threads = [threading.Thread(target=writer, args=(f"w{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not any(t.is_alive() for t in threads)
    assert overlaps == []
    assert meta.get(LEASE_ROW)["holder"] == ""  # released by the last one


def test_busy_lease_is_named_then_taken_when_its_holder_died(meta: MilvusMeta) -> None:
    dead = WriteLease(meta, "isnad index", ttl_s=8.0).acquire(timeout_s=30)  # never released: a killed job
    with pytest.raises(LeaseBusy, match=r"isnad index by .*expires in"):
        WriteLease(meta, "API write").acquire(timeout_s=0)
    taker = WriteLease(meta, "API write").acquire(timeout_s=60)  # waits out the dead holder's 8 s
    assert meta.get(LEASE_ROW)["holder"] == taker.holder
    dead.renewed = 0.0
    with pytest.raises(LeaseBusy, match="expired and another writer took it"):
        dead.renew()  # the killed job, were it only paused, stops instead of writing beside the new holder
    taker.release()
    assert WriteLease(meta, "next").acquire(timeout_s=0).holder
