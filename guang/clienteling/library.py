"""The default tag library every brand gets, and which purchases confirm each tag (for the audit).

Categories are the catalog's product categories. Sizes and life stages say nothing a till receipt can
check: they carry no mapping and the audit reports them as not auditable."""

from __future__ import annotations

from guang.adapters.ports import DocumentStore
from guang.clienteling.models import LIBRARY, ClientTag, TagGroup

YUAN = 100


def _tag(
    key: str, group: TagGroup, name: str, categories: tuple[str, ...] = (),
    min_yuan: int | None = None, max_yuan: int | None = None,
) -> ClientTag:  # fmt: skip
    return ClientTag(
        id=f"std-{group.value}-{key}", group=group, name=name, categories=list(categories),
        min_price_fen=None if min_yuan is None else min_yuan * YUAN,
        max_price_fen=None if max_yuan is None else max_yuan * YUAN,
    )  # fmt: skip


S, Z, B, OC, L, C = (
    TagGroup.STYLE, TagGroup.SIZE, TagGroup.BUDGET, TagGroup.OCCASION, TagGroup.LIFE_STAGE, TagGroup.CATEGORY
)  # fmt: skip
DEFAULT_LIBRARY: tuple[ClientTag, ...] = (
    _tag("commute", S, "通勤", ("衬衫", "外套", "半身裙", "连衣裙", "针织衫")),
    _tag("casual", S, "休闲", ("T恤", "牛仔裤", "针织衫", "运动T恤", "运动裤", "双肩包")),
    _tag("sporty", S, "运动", ("跑鞋", "篮球鞋", "运动裤", "瑜伽服", "运动T恤", "冲锋衣")),
    _tag("elegant", S, "优雅", ("连衣裙", "半身裙", "衬衫", "香水", "口红")),
    _tag("outdoor", S, "户外", ("冲锋衣", "双肩包", "跑鞋")),
    _tag("minimal", S, "极简"),
    *(_tag(size.lower(), Z, size) for size in ("XS", "S", "M", "L", "XL", "XXL")),
    _tag("low", B, "¥300以下", max_yuan=300),
    _tag("mid", B, "¥300–1000", min_yuan=300, max_yuan=1000),
    _tag("high", B, "¥1000以上", min_yuan=1000),
    _tag("work", OC, "上班"),
    _tag("date", OC, "约会"),
    _tag("holiday", OC, "度假"),
    _tag("fitness", OC, "健身", ("瑜伽服", "运动T恤", "运动裤", "跑鞋")),
    _tag("gift", OC, "送礼", ("香水", "坚果礼盒", "巧克力", "茶叶", "香薰蜡烛")),
    _tag("student", L, "学生"),
    _tag("new-job", L, "职场新人"),
    _tag("newlywed", L, "新婚"),
    _tag("new-parent", L, "新手父母"),
    _tag("senior", L, "银发"),
    _tag("denim", C, "牛仔", ("牛仔裤",)),
    _tag("outerwear", C, "外套", ("外套", "羽绒服", "冲锋衣")),
    _tag("shoes", C, "鞋", ("跑鞋", "篮球鞋")),
    _tag("skincare", C, "护肤", ("精华", "面霜", "防晒霜", "面膜")),
    _tag("makeup", C, "彩妆", ("口红", "粉底液")),
    _tag("fragrance", C, "香氛", ("香水", "香薰蜡烛")),
    _tag("digital", C, "数码", ("耳机", "智能手表", "充电宝", "蓝牙音箱", "平板电脑", "键盘", "相机")),
    _tag("home", C, "家居", ("床品四件套", "抱枕", "餐具", "收纳盒", "台灯", "毛毯")),
    _tag("coffee-tea", C, "咖啡茶饮", ("咖啡豆", "茶叶")),
)
DEFAULT_BY_ID = {t.id: t for t in DEFAULT_LIBRARY}


async def library_of(documents: DocumentStore, brand_id: str) -> dict[str, ClientTag]:
    """The brand's tag library: the default tags and the brand's own, by id (one read)."""
    own = await documents.find(LIBRARY, {"brand_id": brand_id}, sort=[("created_ms", 1), ("_id", 1)])
    return {**DEFAULT_BY_ID, **{t.id: t for t in (ClientTag.model_validate(d) for d in own)}}
