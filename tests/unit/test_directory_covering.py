"""The store directory re-reads itself for ids it does not know, but not more than once in a while."""

from __future__ import annotations

from typing import Any

from guang.places.directory import Directories


class CountingDocuments:
    """Just enough of a document store for the directory: `find` by collection, counted."""

    def __init__(self) -> None:
        self.collections: dict[str, list[dict[str, Any]]] = {
            "malls": [], "brands": [], "stores": [], "products": [],
            "staff": [{"_id": "s1", "id": "s1", "name": "王芳", "store_id": "st1", "title": "导购",
                       "wecom_user_id": "w1"}],
        }  # fmt: skip
        self.staff_reads = 0

    async def find(self, collection: str, *_args: Any, **_kwargs: Any) -> list[dict[str, Any]]:
        self.staff_reads += collection == "staff"
        return list(self.collections[collection])


async def test_an_unknown_id_rereads_once_and_then_not_again_for_a_while() -> None:
    documents = CountingDocuments()
    directories = Directories(documents)  # type: ignore[arg-type]
    assert "s1" in (await directories.covering(staff=["s1"])).staff
    assert documents.staff_reads == 1
    documents.collections["staff"].append(
        {"_id": "s2", "id": "s2", "name": "李娜", "store_id": "st1", "title": "导购", "wecom_user_id": "w2"}
    )
    assert "s2" in (await directories.covering(staff=["s1", "s2"])).staff
    assert documents.staff_reads == 2
    assert "ghost" not in (await directories.covering(staff=["ghost"])).staff
    assert documents.staff_reads == 2, "a second unknown id right after does not re-read"
    await directories.covering(staff=["s1", "s2"], stores=[])
    assert documents.staff_reads == 2
