"""Static Chinese retail vocabulary for the seed generator: places, brands, products, people, copy."""

from __future__ import annotations

from typing import NamedTuple

# ---------------------------------------------------------------- places


class MallSpec(NamedTuple):
    """A real shopping mall: name, 商圈 (district) and approximate WGS84 coordinates."""

    name: str
    district: str
    lat: float
    lng: float


class CitySpec(NamedTuple):
    """A city with its id suffix (`city-<code>`) and malls in several districts."""

    code: str
    name: str
    malls: tuple[MallSpec, ...]


CITIES: tuple[CitySpec, ...] = (
    CitySpec(
        "sh",
        "上海",
        (
            MallSpec("静安嘉里中心", "静安寺", 31.2246, 121.4476),
            MallSpec("恒隆广场", "南京西路", 31.2284, 121.4522),
            MallSpec("国金中心商场", "陆家嘴", 31.2365, 121.5015),
            MallSpec("港汇恒隆广场", "徐家汇", 31.1956, 121.4372),
            MallSpec("环贸iapm", "淮海中路", 31.2155, 121.4570),
        ),
    ),
    CitySpec(
        "hz",
        "杭州",
        (
            MallSpec("杭州大厦购物城", "武林", 30.2755, 120.1640),
            MallSpec("湖滨银泰in77", "湖滨", 30.2577, 120.1632),
            MallSpec("杭州万象城", "钱江新城", 30.2473, 120.2126),
            MallSpec("星光大道", "滨江", 30.2095, 120.2110),
            MallSpec("西溪印象城", "西溪", 30.2850, 120.0780),
        ),
    ),
    CitySpec(
        "bj",
        "北京",
        (
            MallSpec("三里屯太古里", "三里屯", 39.9340, 116.4540),
            MallSpec("国贸商城", "国贸", 39.9095, 116.4600),
            MallSpec("西单大悦城", "西单", 39.9110, 116.3730),
            MallSpec("王府井apm", "王府井", 39.9142, 116.4112),
            MallSpec("望京凯德MALL", "望京", 39.9960, 116.4700),
        ),
    ),
)

STORE_FLOORS: tuple[str, ...] = ("B2", "B1", "L1", "L1", "L2", "L2", "L3", "L4", "L5")

# ---------------------------------------------------------------- products

SECTORS: tuple[str, ...] = ("服装", "运动", "美妆", "数码", "家居", "食品饮料")

SEASON_CN: dict[str, str] = {
    "spring": "春季",
    "summer": "夏季",
    "autumn": "秋季",
    "winter": "冬季",
    "all": "四季",
}

# Season sets a category can be sold in (values of Product.season).
ALL: tuple[str, ...] = ("all",)
SS: tuple[str, ...] = ("spring", "summer")
SA: tuple[str, ...] = ("spring", "autumn")
AW: tuple[str, ...] = ("autumn", "winter")
SAW: tuple[str, ...] = ("spring", "autumn", "winter")
SUM: tuple[str, ...] = ("summer", "all")
WIN: tuple[str, ...] = ("winter",)
ANY: tuple[str, ...] = ("spring", "summer", "autumn", "winter", "all")

# fmt: off
# Variant suffixes (colour or spec) appended after a space: "修身直筒水洗牛仔裤 深蓝".
COLOURS: tuple[str, ...] = (
    "深蓝", "浅蓝", "米白", "燕麦", "雾霾蓝", "焦糖", "黑色", "藏青", "卡其", "橄榄绿", "酒红", "奶咖",
    "浅灰", "樱花粉",
)
SPORT_COLOURS: tuple[str, ...] = ("黑白", "荧光绿", "冰川蓝", "曜石黑", "珊瑚橙", "灰白", "薄荷绿", "银河紫")
TECH_COLOURS: tuple[str, ...] = ("星空黑", "月光银", "远峰蓝", "雾白", "松岭绿", "晨曦金")
HOME_COLOURS: tuple[str, ...] = ("奶油白", "燕麦色", "莫兰迪灰", "雾霾粉", "原木色", "橄榄绿", "湖水蓝")
LIP_SHADES: tuple[str, ...] = (
    "#316豆沙红", "#999正红", "#520枫叶棕", "#888番茄红", "#213奶茶色", "#602玫瑰粉",
)
SKIN_SIZES: tuple[str, ...] = ("30ml", "50ml", "100ml", "旅行装", "礼盒装")
FOUNDATION_SHADES: tuple[str, ...] = ("01象牙白", "02自然色", "03暖米色", "04小麦色")
SCENTS: tuple[str, ...] = ("白茶", "雪松", "无花果", "橙花", "檀木", "海盐鼠尾草")
FOOD_PACKS: tuple[str, ...] = ("250g", "500g", "礼盒装", "家庭装", "便携装")
DRINK_PACKS: tuple[str, ...] = ("330ml×6", "500ml×12", "1L", "整箱装")
TECH_SPECS: tuple[str, ...] = ("标准版", "Pro版", "青春版", "128GB", "256GB")

# Material / feature words, placed right before the noun.
FABRICS: tuple[str, ...] = ("纯棉", "亚麻", "真丝", "羊毛", "天丝", "莫代尔", "灯芯绒", "华夫格")
DENIM: tuple[str, ...] = ("水洗", "弹力", "重磅", "做旧", "原色")
OUTERWEAR: tuple[str, ...] = ("羊毛", "羊绒", "防风", "鸭绒", "鹅绒", "双面呢")
SPORT_TECH: tuple[str, ...] = ("速干", "透气网面", "缓震", "碳板", "轻量", "防泼水")
BEAUTY_ACTIVES: tuple[str, ...] = ("玻尿酸", "烟酰胺", "视黄醇", "积雪草", "神经酰胺", "VC")
LIP_FINISHES: tuple[str, ...] = ("丝绒", "雾面", "水光", "缎光", "镜面")
TECH_FEATURES: tuple[str, ...] = ("降噪", "无线", "快充", "长续航", "高清", "磁吸")
HOME_MATERIALS: tuple[str, ...] = ("纯棉", "亚麻", "陶瓷", "实木", "竹纤维", "玻璃", "羊毛")
FOOD_FLAVOURS: tuple[str, ...] = ("原味", "海盐", "抹茶", "黑糖", "榛子", "桂花", "白桃", "柠檬")

# Adjectives shared by every category of a sector; one or two precede the material.
SECTOR_ADJECTIVES: dict[str, tuple[str, ...]] = {
    "服装": (
        "修身", "宽松", "直筒", "廓形", "短款", "高腰", "复古", "通勤", "法式", "简约", "韩系", "日系",
        "休闲",
    ),
    "运动": ("专业", "竞速", "训练", "户外", "轻盈", "高弹", "包裹", "经典"),
    "美妆": ("持妆", "保湿", "修护", "提亮", "清透", "水润", "控油", "温和"),
    "数码": ("智能", "便携", "迷你", "旗舰", "轻薄", "入耳式", "桌面"),
    "家居": ("北欧", "日式", "极简", "ins风", "复古", "温馨", "奶油风"),
    "食品饮料": ("手工", "进口", "低糖", "0糖", "每日", "限定", "经典"),
}
# fmt: on


class Category(NamedTuple):
    """A product category: noun variants, material words, variants, seasons and a price range in yuan."""

    name: str
    nouns: tuple[str, ...]
    materials: tuple[str, ...]
    variants: tuple[str, ...]
    seasons: tuple[str, ...]
    min_yuan: int
    max_yuan: int


CATEGORIES: dict[str, tuple[Category, ...]] = {
    "服装": (
        Category("牛仔裤", ("牛仔裤", "直筒牛仔裤", "阔腿牛仔裤"), DENIM, COLOURS, SA, 199, 899),
        Category("衬衫", ("衬衫", "牛津纺衬衫", "长袖衬衫"), FABRICS, COLOURS, SA, 149, 699),
        Category("外套", ("外套", "风衣", "夹克", "大衣"), OUTERWEAR, COLOURS, AW, 399, 2999),
        Category("连衣裙", ("连衣裙", "吊带裙", "衬衫裙"), FABRICS, COLOURS, SS, 259, 1299),
        Category("T恤", ("T恤", "短袖T恤", "圆领T恤"), FABRICS, COLOURS, SUM, 79, 399),
        Category("针织衫", ("针织衫", "开衫", "毛衣"), FABRICS, COLOURS, SAW, 199, 1299),
        Category("羽绒服", ("羽绒服", "短款羽绒服", "羽绒马甲"), OUTERWEAR, COLOURS, WIN, 699, 3999),
        Category("半身裙", ("半身裙", "百褶裙", "A字裙"), FABRICS, COLOURS, SS, 159, 799),
    ),
    "运动": (
        Category("跑鞋", ("跑鞋", "竞速跑鞋", "慢跑鞋"), SPORT_TECH, SPORT_COLOURS, ALL, 399, 1599),
        Category("篮球鞋", ("篮球鞋", "实战篮球鞋", "高帮球鞋"), SPORT_TECH, SPORT_COLOURS, ALL, 499, 1799),
        Category("运动裤", ("运动裤", "束脚裤", "运动短裤"), SPORT_TECH, SPORT_COLOURS, ANY, 149, 599),
        Category("瑜伽服", ("瑜伽服", "瑜伽裤", "运动内衣"), SPORT_TECH, SPORT_COLOURS, ALL, 199, 899),
        Category("运动T恤", ("运动T恤", "训练背心", "速干短袖"), SPORT_TECH, SPORT_COLOURS, SUM, 99, 399),
        Category("冲锋衣", ("冲锋衣", "软壳外套", "抓绒衣"), SPORT_TECH, SPORT_COLOURS, AW, 599, 2999),
        Category("双肩包", ("双肩包", "运动背包", "腰包"), SPORT_TECH, SPORT_COLOURS, ALL, 129, 699),
    ),
    "美妆": (
        Category("口红", ("口红", "唇釉", "唇泥"), LIP_FINISHES, LIP_SHADES, ALL, 129, 399),
        Category("粉底液", ("粉底液", "气垫", "粉霜"), LIP_FINISHES, FOUNDATION_SHADES, ALL, 199, 699),
        Category("精华", ("精华液", "精华油", "安瓶"), BEAUTY_ACTIVES, SKIN_SIZES, ALL, 299, 1599),
        Category("面霜", ("面霜", "乳液", "眼霜"), BEAUTY_ACTIVES, SKIN_SIZES, AW, 259, 1999),
        Category("防晒霜", ("防晒霜", "防晒乳", "防晒喷雾"), BEAUTY_ACTIVES, SKIN_SIZES, SUM, 129, 399),
        Category("香水", ("香水", "淡香水", "香氛喷雾"), SCENTS, SKIN_SIZES, ALL, 399, 1899),
        Category("面膜", ("面膜", "涂抹面膜", "睡眠面膜"), BEAUTY_ACTIVES, SKIN_SIZES, ALL, 99, 399),
    ),
    "数码": (
        Category("耳机", ("蓝牙耳机", "头戴耳机", "运动耳机"), TECH_FEATURES, TECH_COLOURS, ALL, 199, 2499),
        Category(
            "智能手表", ("智能手表", "运动手环", "儿童手表"), TECH_FEATURES, TECH_COLOURS, ALL, 299, 3999
        ),
        Category("充电宝", ("充电宝", "移动电源", "充电器"), TECH_FEATURES, TECH_COLOURS, ALL, 99, 399),
        Category(
            "蓝牙音箱", ("蓝牙音箱", "便携音箱", "智能音箱"), TECH_FEATURES, TECH_COLOURS, ALL, 199, 1999
        ),
        Category(
            "平板电脑", ("平板电脑", "电子书阅读器", "学习平板"), TECH_FEATURES, TECH_SPECS, ALL, 999, 5999
        ),
        Category("键盘", ("机械键盘", "无线键盘", "键鼠套装"), TECH_FEATURES, TECH_COLOURS, ALL, 199, 1299),
        Category("相机", ("微单相机", "运动相机", "拍立得"), TECH_FEATURES, TECH_SPECS, ALL, 899, 9999),
    ),
    "家居": (
        Category("床品四件套", ("床品四件套", "被套", "枕套"), HOME_MATERIALS, HOME_COLOURS, ANY, 299, 1999),
        Category("抱枕", ("抱枕", "靠垫", "坐垫"), HOME_MATERIALS, HOME_COLOURS, ALL, 59, 299),
        Category("香薰蜡烛", ("香薰蜡烛", "无火香薰", "扩香石"), SCENTS, HOME_COLOURS, ALL, 99, 499),
        Category("餐具", ("碗碟套装", "马克杯", "餐盘"), HOME_MATERIALS, HOME_COLOURS, ALL, 49, 699),
        Category("收纳盒", ("收纳盒", "收纳篮", "抽屉收纳"), HOME_MATERIALS, HOME_COLOURS, ALL, 39, 299),
        Category("台灯", ("台灯", "落地灯", "小夜灯"), HOME_MATERIALS, HOME_COLOURS, ALL, 129, 999),
        Category("毛毯", ("毛毯", "沙发毯", "午睡毯"), HOME_MATERIALS, HOME_COLOURS, AW, 149, 899),
    ),
    "食品饮料": (
        Category("咖啡豆", ("咖啡豆", "挂耳咖啡", "冻干咖啡"), FOOD_FLAVOURS, FOOD_PACKS, ALL, 49, 299),
        Category("茶叶", ("龙井", "白茶", "花果茶", "乌龙茶"), FOOD_FLAVOURS, FOOD_PACKS, SA, 59, 899),
        Category("坚果礼盒", ("每日坚果", "坚果礼盒", "夏威夷果"), FOOD_FLAVOURS, FOOD_PACKS, AW, 69, 399),
        Category("巧克力", ("黑巧克力", "松露巧克力", "生巧"), FOOD_FLAVOURS, FOOD_PACKS, AW, 49, 499),
        Category("饼干", ("曲奇", "苏打饼干", "蛋卷"), FOOD_FLAVOURS, FOOD_PACKS, ALL, 19, 159),
        Category("果汁", ("NFC果汁", "果蔬汁", "椰子水"), FOOD_FLAVOURS, DRINK_PACKS, SUM, 29, 199),
        Category("气泡水", ("气泡水", "苏打水", "气泡茶"), FOOD_FLAVOURS, DRINK_PACKS, SUM, 29, 129),
    ),
}

SELLING_POINTS: dict[str, tuple[str, ...]] = {
    "服装": ("版型很显瘦", "面料软糯亲肤", "上身很有质感", "怎么搭都不出错", "做工扎实", "小个子也能穿"),
    "运动": ("脚感回弹很明显", "透气不闷汗", "包裹性超好", "轻到几乎没感觉", "跑完十公里也不累"),
    "美妆": ("上脸很服帖", "一整天都不脱妆", "敏感肌也能用", "吸收快不黏腻", "气色瞬间提亮"),
    "数码": ("续航非常能打", "音质通透有层次", "做工精致手感好", "连接稳定不掉线", "小巧好收纳"),
    "家居": ("颜值在线很出片", "质感高级不廉价", "实用又好打理", "氛围感拉满", "尺寸刚刚好"),
    "食品饮料": ("口感层次很丰富", "甜度刚刚好", "配料表很干净", "办公室囤货必备", "送礼很有面子"),
}

SCENES: dict[str, tuple[str, ...]] = {
    "服装": ("通勤", "约会", "周末出游", "日常", "度假"),
    "运动": ("晨跑", "健身房训练", "球场", "徒步", "日常通勤"),
    "美妆": ("通勤妆", "约会妆", "日常护肤", "熬夜急救", "出差旅行"),
    "数码": ("通勤路上", "办公", "出差旅行", "健身", "居家娱乐"),
    "家居": ("卧室", "客厅", "书房", "租房改造", "乔迁送礼"),
    "食品饮料": ("下午茶", "办公室", "露营野餐", "追剧", "节日送礼"),
}

DESCRIPTION_TEMPLATES: tuple[str, ...] = (
    "这款{noun}{point}，{season}{scene}都很合适。",
    "{adj}设计的{noun}，{point}，适合{scene}。",
    "{material}{noun}，{point}，{season}热卖款。",
    "店员推荐的{noun}，{point}，{scene}必备。",
)

# ---------------------------------------------------------------- brands (fictional)


class BrandSpec(NamedTuple):
    """A fictional brand: Chinese name, Latin name and sector."""

    name: str
    latin: str
    sector: str


BRANDS: tuple[BrandSpec, ...] = (
    BrandSpec("拾衣记", "SHIYIJI", "服装"),
    BrandSpec("棉屿", "MIANYU", "服装"),
    BrandSpec("青衫集", "QINGSHAN", "服装"),
    BrandSpec("简木良品", "JIANMU", "服装"),
    BrandSpec("织野", "ZHIYE", "服装"),
    BrandSpec("南风里", "NANFENG", "服装"),
    BrandSpec("跃界", "YUEJIE", "运动"),
    BrandSpec("疾风者", "GALERUN", "运动"),
    BrandSpec("山野行", "HILLWALK", "运动"),
    BrandSpec("弧线运动", "ARCLINE", "运动"),
    BrandSpec("燃刻", "RANKE", "运动"),
    BrandSpec("肌语集", "JIYU", "美妆"),
    BrandSpec("花间颂", "HUAJIAN", "美妆"),
    BrandSpec("雾屿之境", "WUYU", "美妆"),
    BrandSpec("初研社", "CHUYAN", "美妆"),
    BrandSpec("露白", "LUBAI", "美妆"),
    BrandSpec("极点科技", "APEXDOT", "数码"),
    BrandSpec("声波坊", "SONICFANG", "数码"),
    BrandSpec("轻核", "LITECORE", "数码"),
    BrandSpec("光年数码", "LIGHTYEAR", "数码"),
    BrandSpec("听岚", "TINGLAN", "数码"),
    BrandSpec("木作所", "MUZUO", "家居"),
    BrandSpec("栖居", "QIJU", "家居"),
    BrandSpec("器物志", "QIWUZHI", "家居"),
    BrandSpec("暖窝", "NUANWO", "家居"),
    BrandSpec("素舍", "SUSHE", "家居"),
    BrandSpec("茶半日", "CHABAN", "食品饮料"),
    BrandSpec("谷物日记", "GRAINDIARY", "食品饮料"),
    BrandSpec("鲜果坊", "FRUITFANG", "食品饮料"),
    BrandSpec("豆子研究所", "BEANLAB", "食品饮料"),
    BrandSpec("麦田物语", "WHEATTALE", "食品饮料"),
    BrandSpec("气泡星球", "FIZZPLANET", "食品饮料"),
    BrandSpec("云朵工坊", "CLOUDWORKS", "家居"),
    BrandSpec("跑野", "TRAILRUN", "运动"),
    BrandSpec("霁色", "JISE", "美妆"),
    BrandSpec("拾音", "SHIYIN", "数码"),
)

GUIDE_COMMISSION_RATES: tuple[float, ...] = (0.02, 0.03, 0.03, 0.05)

# ---------------------------------------------------------------- people

# fmt: off
SURNAMES: tuple[str, ...] = (
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何",
    "林", "高", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯",
)
GIVEN_NAMES: tuple[str, ...] = (
    "子涵", "欣怡", "梓萱", "诗琪", "一诺", "浩然", "宇轩", "俊杰", "雨桐", "思远", "晓雯", "佳怡", "嘉豪",
    "文博", "若曦", "明轩", "可馨", "天宇", "梦瑶", "志强", "婉清", "语嫣", "子墨", "书瑶", "安琪", "晨阳",
    "思彤", "逸凡", "静怡", "雅琴",
)
STORE_MANAGER_TITLE = "店长"
STAFF_TITLES: tuple[str, ...] = (
    "导购", "导购", "导购", "资深导购", "副店长", "资深搭配师", "产品专家", "陈列师",
)

NICKNAME_PREFIXES: tuple[str, ...] = (
    "爱逛街的", "不吃香菜的", "早睡早起的", "周末逛吃的", "追剧的", "精致的", "佛系的", "努力搬砖的",
    "爱跑步的", "奶茶续命的",
)
NICKNAME_NOUNS: tuple[str, ...] = (
    "小鹿", "橘子", "猫咪", "团子", "兔兔", "阿柴", "小熊", "奶盖", "小鲸鱼", "柠檬", "芋圆", "布丁",
)
NICKNAME_SUFFIXES: tuple[str, ...] = ("酱", "宝", "同学", "呀", "", "的日常")
# fmt: on

# ---------------------------------------------------------------- copy templates
# Fields: {brand} {mall} {district} {product} {category} {price} {point} {scene} {season} {staff} {floor} {n}

ARTICLE_TITLES: tuple[str, ...] = (
    "{season}必入！{brand}这{n}件{category}我愿称之为yyds",
    "挖到宝了｜{brand}{category}合集，{district}逛街就能试",
    "{scene}党看过来：{product}真实上身分享",
    "被店员安利的{product}，真的回购了三次",
    "{mall}逛街攻略｜{brand}新品{category}清单",
    "平价也有高级感！{brand}{category}红黑榜",
    "{season}{scene}怎么穿？跟着{brand}抄作业",
)

ARTICLE_BODIES: tuple[str, ...] = (
    "姐妹们！最近在{mall}的{brand}挖到了{product}，{point}。价格¥{price}，{season}{scene}刚刚好，冲就完事了～",
    "周末去{district}逛街顺手试了{product}，{point}，店员小姐姐还教了好几种搭配。¥{price}，性价比可以打满分。",
    "不是广告！{brand}的{category}我已经回购好几次了，这次入的是{product}，{point}。{scene}用它完全不踩雷。",
    "{season}衣橱/好物更新：{product}，{point}。{mall}{floor}层就有，建议先去门店试一试再下手。",
)

STAFF_POSTS: tuple[str, ...] = (
    "店员说：今天新到了{product}，{point}，到店报我名字（{staff}）可以帮你留尺码～",
    "{product}只剩最后几件啦，{mall}{floor}{brand}等你来试，¥{price}！",
    "每日穿搭｜我自己也在用的{product}，{point}，{scene}特别合适。",
    "{season}上新！{category}区刚陈列好，{product}{point}，欢迎来店里看看～",
    "好多顾客问的{product}补货了！¥{price}，{point}，需要可以私信我预约试穿。",
    "{staff}的私藏推荐：{product}，{point}。今天店里人不多，过来逛逛吧～",
)

# (min spend yuan, discount yuan)
COUPON_TIERS: tuple[tuple[int, int], ...] = ((99, 10), (199, 20), (299, 30), (399, 50), (599, 80), (999, 150))

COUPON_TITLES: tuple[str, ...] = (
    "{brand}满{min}减{off}",
    "{mall}{brand}专享 立减{off}元",
    "新客到店礼 满{min}减{off}",
    "{district}逛街福利 {brand}满{min}减{off}",
    "限时到店券 {brand}立减{off}元",
)

# ---------------------------------------------------------------- mall activities
# (title, description, location); fields: {mall} {district}
ACTIVITIES: tuple[tuple[str, str, str], ...] = (
    ("周末快闪市集", "{mall}中庭快闪市集，设计师小物、手作饰品，逛累了还有咖啡。", "一层中庭"),
    ("新品走秀", "{mall}春夏新品走秀，现场扫码领走秀同款优惠。", "一层中庭舞台"),
    ("亲子手作课堂", "和孩子一起做香薰蜡烛，名额有限，先到先得。", "四层儿童活动区"),
    ("会员日双倍积分", "今日{mall}全场消费积分翻倍，停车再送2小时。", "全场"),
    ("{district}城市音乐夜", "驻场乐队演出，边逛边听，晚上更热闹。", "户外广场"),
    ("美妆护肤体验课", "专业彩妆师教你通勤妆，现场可试用新品。", "二层美妆区"),
    ("运动打卡挑战", "完成三家运动品牌店打卡，可在服务台兑换小礼品。", "三层运动区"),
)
ACTIVITY_HOURS: tuple[int, ...] = (2, 3, 4, 8, 12, 48, 72)
