from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from whetstone.errors import InvalidRequest
from whetstone.server import serialize
from whetstone.server.deps import Key, Svc
from whetstone.server.schemas import MAX_INT, AddItems, CreateDataset, ItemIn

router = APIRouter(prefix="/api/datasets", tags=["datasets"])

Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=MAX_INT)]


def _check_batch(items: list[ItemIn], limit: int) -> None:
    if len(items) > limit:
        raise InvalidRequest(
            f"{len(items)} items in one request; send at most {limit} per request "
            "and add the rest with POST /api/datasets/{id}/items",
            details={"items": f"at most {limit} per request"},
        )


@router.post("", status_code=201, summary="Create a dataset, optionally with items")
async def create_dataset(body: CreateDataset, svc: Svc, key: Key) -> dict[str, Any]:
    _check_batch(body.items, svc.settings.max_items_per_request)
    dataset = await svc.store.datasets.create(
        key.workspace_id, body.name, body.description, [i.item() for i in body.items]
    )
    return serialize.one(serialize.dataset(dataset))


@router.get("", summary="Datasets, newest first")
async def list_datasets(
    svc: Svc, key: Key, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    page = await svc.store.datasets.page(key.workspace_id, limit=limit, offset=offset)
    return serialize.paged(page, serialize.dataset)


@router.get("/{dataset_id}", summary="One dataset")
async def get_dataset(dataset_id: str, svc: Svc, key: Key) -> dict[str, Any]:
    dataset = await svc.store.datasets.get(key.workspace_id, dataset_id)
    return serialize.one(serialize.dataset(dataset))


@router.post("/{dataset_id}/items", status_code=201, summary="Append items")
async def add_items(dataset_id: str, body: AddItems, svc: Svc, key: Key) -> dict[str, Any]:
    _check_batch(body.items, svc.settings.max_items_per_request)
    added = await svc.store.datasets.add_items(
        key.workspace_id, dataset_id, [i.item() for i in body.items]
    )
    return serialize.one({"added": added})


@router.get("/{dataset_id}/items", summary="Items in insertion order, one page at a time")
async def list_items(
    dataset_id: str, svc: Svc, key: Key, limit: Limit = 100, offset: Offset = 0
) -> dict[str, Any]:
    page = await svc.store.datasets.items(key.workspace_id, dataset_id, limit=limit, offset=offset)
    return serialize.paged(page, serialize.item)
