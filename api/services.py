"""What the API process holds: built once at start-up from the composition root."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from api.screen_hub import ScreenHub
from guang.accounts.code2session import (
    Code2Session,
    DemoCode2Session,
    UnconfiguredCode2Session,
    WeChatCode2Session,
)
from guang.accounts.data_rights import DataRights
from guang.accounts.face_enrolment import FaceEnrolments
from guang.accounts.service import Accounts
from guang.accounts.tokens import SessionTokens
from guang.adapters.redis_guide_inbox import RedisAlertLog
from guang.bootstrap import Container
from guang.clienteling.service import Clienteling
from guang.content.service import Content
from guang.coupons.deals import DealBoard
from guang.coupons.service import Coupons
from guang.dashboard.service import Dashboards
from guang.guide_inbox.hub import GuideHub
from guang.guide_inbox.models import COOLDOWN_S, RECENT_KEPT, RECENT_TTL_S
from guang.guide_inbox.service import GuideInbox
from guang.payments.service import Payments
from guang.places.directory import Directories
from guang.places.service import Places
from guang.services.app_events import AppEvents
from guang.services.catalog import Catalog
from guang.services.devices import DeviceRegistry
from guang.services.signals import Signals
from guang.staff.service import StaffDesk
from recsys.ranking import weights_by_surface
from recsys.service import Recommender
from recsys.store_lists import StoreListCache


@dataclass
class AppServices:
    container: Container
    catalog: Catalog
    devices: DeviceRegistry
    recommender: Recommender
    store_lists: StoreListCache
    hub: ScreenHub
    accounts: Accounts
    events: AppEvents
    places: Places
    content: Content
    staff: StaffDesk
    coupons: Coupons
    payments: Payments
    signals: Signals
    dashboards: Dashboards
    data_rights: DataRights
    face_enrolments: FaceEnrolments
    clienteling: Clienteling
    guide: GuideHub

    @classmethod
    async def build(cls, container: Container) -> AppServices:
        settings = container.settings
        catalog = await Catalog.load(container.documents)
        directories = Directories(container.documents)

        async def in_stock() -> Mapping[str, Sequence[str]]:
            return (await directories.get()).in_stock

        events = AppEvents(container.bus)
        docs = container.documents
        staff = StaffDesk(
            documents=docs,
            events=events,
            catalog=catalog,
            settings=settings,
            secret_key=container.secret_key,
            directories=directories,
        )
        recommender = Recommender(
            catalog=catalog,
            features=container.features,
            vectors=container.vectors,
            half_life_s=settings.interest_half_life_s,
            presence_window_s=settings.presence_window_s,
            in_stock=in_stock,
            staff_picks=staff.directory.picks_by_store,
            deals=DealBoard(documents=docs, catalog=catalog).by_store,
            surface_weights=weights_by_surface(settings.ranking_weights),
            brand_boosts=settings.brand_boosts,
        )
        store_lists = StoreListCache(
            lambda store, limit, surface: recommender.for_store(store, limit=limit, surface=surface),
            ttl_s=settings.store_list_ttl_s,
        )
        hub = ScreenHub(lists=store_lists, features=container.features, items=settings.screen_items)
        accounts = Accounts(
            documents=container.documents,
            features=container.features,
            code2session=code2session(container),
            tokens=SessionTokens(
                secret=container.secret_key,
                ttl_s=settings.session_ttl_s,
                privileged_ttl_s=settings.staff_session_ttl_s,
                previous_secrets=[key.get_secret_value() for key in settings.previous_secret_keys],
            ),
        )
        face_enrolments = FaceEnrolments(documents=docs, features=container.features)
        guide_alerts = container.guide_alert_log(keep=RECENT_KEPT, ttl_s=RECENT_TTL_S)
        content = Content(
            documents=docs, events=events, catalog=catalog, settings=settings, directories=directories
        )
        return cls(
            container=container,
            catalog=catalog,
            devices=await DeviceRegistry.load(container.documents),
            recommender=recommender,
            store_lists=store_lists,
            hub=hub,
            accounts=accounts,
            events=events,
            places=Places(
                documents=docs,
                events=events,
                catalog=catalog,
                settings=settings,
                features=container.features,
                directories=directories,
            ),
            content=content,
            staff=staff,
            coupons=Coupons(
                documents=docs, events=events, catalog=catalog, settings=settings, directories=directories
            ),
            payments=Payments(documents=docs, events=events, catalog=catalog, settings=settings),
            data_rights=DataRights(
                documents=docs,
                features=container.features,
                bus=container.bus,
                revocations=accounts.revocations,
                articles=content.views,
                guide_alerts=guide_alerts,
            ),
            face_enrolments=face_enrolments,
            clienteling=Clienteling(
                documents=docs, features=container.features, directories=directories, catalog=catalog
            ),
            guide=guide_hub(
                container,
                alerts=guide_alerts,
                recommender=recommender,
                catalog=catalog,
                directories=directories,
            ),
            dashboards=Dashboards(
                stats=container.store_stats,
                directories=directories,
                catalog=catalog,
                documents=docs,
                changes=container.features.store_changes,
            ),
            signals=Signals(events=events, features=container.features, catalog=catalog, demo=settings.demo),
        )


def guide_hub(
    container: Container,
    *,
    alerts: RedisAlertLog,
    recommender: Recommender,
    catalog: Catalog,
    directories: Directories,
) -> GuideHub:
    """The guide inbox: tails the dataflow's signals, keeps each staff member's last 50 alerts for 24 h."""
    s = container.settings
    inbox = GuideInbox(
        documents=container.documents, features=container.features, recommender=recommender, catalog=catalog,
        directories=directories, items=s.screen_items, cooldown_s=COOLDOWN_S,
    )  # fmt: skip
    return GuideHub(
        feed=container.guide_signal_feed(),
        inbox=inbox,
        alerts=alerts,
    )


def code2session(container: Container) -> Code2Session:
    """The real WeChat exchange when an appid is configured; demo codes only in demo mode."""
    s = container.settings
    if s.wechat_app_id:
        return WeChatCode2Session(
            app_id=s.wechat_app_id, app_secret=s.wechat_app_secret, base_url=s.wechat_api_base
        )
    if s.demo:
        return DemoCode2Session()
    return UnconfiguredCode2Session()
