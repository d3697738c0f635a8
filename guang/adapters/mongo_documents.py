"""Documents through `pymongo.AsyncMongoClient`: a SecantusDB child process (embedded) or MongoDB (server)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pymongo import AsyncMongoClient, ReturnDocument
from pymongo.errors import DuplicateKeyError, PyMongoError

_INSERT_CHUNK = 2000


class MongoDocumentStore:
    def __init__(self, uri: str, database: str) -> None:
        self._client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri, serverSelectionTimeoutMS=5000)
        self._db = self._client[database]

    async def insert_many(self, collection: str, docs: Sequence[Mapping[str, Any]]) -> None:
        for start in range(0, len(docs), _INSERT_CHUNK):
            await self._db[collection].insert_many(
                [dict(d) for d in docs[start : start + _INSERT_CHUNK]], ordered=False
            )

    async def find(
        self,
        collection: str,
        query: Mapping[str, Any] | None = None,
        *,
        projection: Mapping[str, Any] | None = None,
        sort: Sequence[tuple[str, int]] | None = None,
        limit: int = 0,
        skip: int = 0,
    ) -> list[dict[str, Any]]:
        cursor = self._db[collection].find(dict(query or {}), projection=projection, limit=limit, skip=skip)
        if sort:
            cursor = cursor.sort(list(sort))
        return [doc async for doc in cursor]

    async def find_one(self, collection: str, query: Mapping[str, Any]) -> dict[str, Any] | None:
        return await self._db[collection].find_one(dict(query))

    async def insert_one(self, collection: str, doc: Mapping[str, Any]) -> bool:
        try:
            await self._db[collection].insert_one(dict(doc))
        except DuplicateKeyError:
            return False
        return True

    async def update_one(
        self, collection: str, query: Mapping[str, Any], update: Mapping[str, Any], *, upsert: bool = False
    ) -> bool:
        try:
            result = await self._db[collection].update_one(dict(query), dict(update), upsert=upsert)
        except DuplicateKeyError:
            return False
        return result.matched_count > 0 or result.upserted_id is not None

    async def find_one_and_update(
        self, collection: str, query: Mapping[str, Any], update: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        return await self._db[collection].find_one_and_update(
            dict(query), dict(update), return_document=ReturnDocument.AFTER
        )

    async def delete_one(self, collection: str, query: Mapping[str, Any]) -> bool:
        return (await self._db[collection].delete_one(dict(query))).deleted_count > 0

    async def delete_many(self, collection: str, query: Mapping[str, Any]) -> int:
        return int((await self._db[collection].delete_many(dict(query))).deleted_count)

    async def count(self, collection: str, query: Mapping[str, Any] | None = None) -> int:
        return int(await self._db[collection].count_documents(dict(query or {})))

    async def upsert(self, collection: str, doc_id: str, doc: Mapping[str, Any]) -> None:
        await self._db[collection].replace_one({"_id": doc_id}, {**doc, "_id": doc_id}, upsert=True)

    async def aggregate(self, collection: str, pipeline: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        cursor = await self._db[collection].aggregate([dict(stage) for stage in pipeline])
        return [doc async for doc in cursor]

    async def create_index(self, collection: str, keys: Sequence[tuple[str, Any]], **options: Any) -> None:
        await self._db[collection].create_index(list(keys), **options)

    async def drop_database(self) -> None:
        await self._client.drop_database(self._db.name)

    async def ping(self) -> bool:
        try:
            await self._client.admin.command("ping")
            return True
        except PyMongoError:
            return False

    async def close(self) -> None:
        await self._client.close()
