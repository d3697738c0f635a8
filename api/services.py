"""What the API process holds: built once at start-up from the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from api.screen_hub import ScreenHub
from guang.bootstrap import Container
from guang.services.catalog import Catalog
from guang.services.devices import DeviceRegistry
from recsys.service import Recommender


@dataclass
class AppServices:
    container: Container
    catalog: Catalog
    devices: DeviceRegistry
    recommender: Recommender
    hub: ScreenHub

    @classmethod
    async def build(cls, container: Container) -> AppServices:
        settings = container.settings
        catalog = await Catalog.load(container.documents)
        recommender = Recommender(
            catalog=catalog,
            features=container.features,
            vectors=container.vectors,
            half_life_s=settings.interest_half_life_s,
            presence_window_s=settings.presence_window_s,
        )
        hub = ScreenHub(recommender=recommender, features=container.features, items=settings.screen_items)
        return cls(
            container=container,
            catalog=catalog,
            devices=await DeviceRegistry.load(container.documents),
            recommender=recommender,
            hub=hub,
        )
