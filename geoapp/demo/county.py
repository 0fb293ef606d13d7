"""The demo county's fixed facts: where it is (centre, UTM zone, rounding), the sizes of its
roads, alleys and river in the parameter plane, and its vocabulary: area kinds, responsible
units, districts, unit yards, markets and public spaces, and the words names are made of.
"""

from __future__ import annotations

CENTER_LONLAT = (114.92, 28.23)
UTM_EPSG = 32650
DECIMALS = 7
SCALE = 10**DECIMALS

# -- layout (parameter plane, metres) -------------------------------------------------------
ROAD_HALF = 15.0  # main roads are 30 m corridors
ALLEY_HALF = 4.0  # back alleys are 8 m
RIVER_HALF = 20.0  # riverside park band, 40 m
OVERSHOOT = 2.0  # alleys and dividers poke 2 m into the corridor they end on (a dangle)
DENSIFY = 25.0  # max vertex spacing before warping
FAR_U = 3400.0
FAR_V = 2900.0
MIN_EDGE = 0.05  # a noded edge shorter than this would not survive rounding

U_BASE = (-1650.0, -850.0, -50.0, 750.0, 1550.0)
V_BASE = (-1250.0, -450.0, 350.0, 1150.0)
V_ROAD_NAMES = ("西环路", "人民路", "解放路", "建设路", "东环路")  # N-S roads, west to east
H_ROAD_NAMES = ("南门路", "城关大道", "胜利路", "北环路")  # E-W roads, south to north
RIVER_ROW = 1  # the river runs between 南门路 and 城关大道
RIVER_PARK = "秀水河滨河公园"

# -- vocabulary ------------------------------------------------------------------------------
KINDS = (
    "main_road",
    "back_alley",
    "compound_managed",
    "compound_unmanaged",
    "open_compound",
    "urban_village",
    "market",
    "public_space",
    "unit_yard",
)

LEAD_UNITS = ("县委办", "县政府办", "县人大办", "县政协办", "县委组织部", "县委宣传部", "县财政局")
RESPONSIBLE_UNITS = (
    "县城管局",
    "县城管大队",
    "县房管局",
    "县交警大队",
    "县市场监管局",
    "敦厚镇政府",
    "县教体局",
    "县卫健委",
    "县住建局",
    "县人社局",
    "县自然资源局",
    "县水利局",
    "县农业农村局",
    "县民政局",
    "县公安局",
    "县文广新旅局",
    "县发改委",
    "县税务局",
    "县供电公司",
    "县移动公司",
    "县商务局",
    "县审计局",
    "县统计局",
    "县司法局",
    "县林业局",
    "县工信局",
    "县医保局",
    "县应急管理局",
    "县生态环境局",
    "县退役军人事务局",
    "县总工会",
    "团县委",
    "县妇联",
    "县科协",
    "县委统战部",
)
SPECIAL_GROUPS = (
    "市容环境专项组",
    "闲置地块专项组",
    "交通秩序专项组",
    "城乡结合部专项组",
    "食品安全专项组",
    "宣传报道专项组",
)
CLEANING_COMPANY = "洁美保洁公司"
PROPERTY_COMPANIES = ("恒安物业公司", "绿景物业公司", "锦城物业公司", "嘉和物业公司")
COMPANIES = (CLEANING_COMPANY, *PROPERTY_COMPANIES)
# Units with a special role: they own areas only through their yards, markets or villages and
# are never handed ordinary road / alley / compound contracted areas.
SPECIAL_ROLE = ("县城管局", "县城管大队", "县房管局", "县交警大队", "县市场监管局", "敦厚镇政府")
TOWN_GOVERNMENT = "敦厚镇政府"

# district id, name, lead unit, seed point in the parameter plane
DISTRICTS = (
    ("D1", "第一片区（城关片区）", "县委办", (300.0, 50.0)),
    ("D2", "第二片区（城东片区）", "县政府办", (1950.0, -300.0)),
    ("D3", "第三片区（城南片区）", "县人大办", (-700.0, -1500.0)),
    ("D4", "第四片区（城西片区）", "县政协办", (-1950.0, 150.0)),
    ("D5", "第五片区（城北片区）", "县委组织部", (-400.0, 1500.0)),
    ("D6", "第六片区（滨江片区）", "县委宣传部", (950.0, -1150.0)),
    ("D7", "第七片区（商贸城片区）", "县财政局", (1350.0, 750.0)),
)

# (name, owner, target point or None for a random pick)
UNIT_YARDS = (
    ("县委县政府大院", "县委办", (300.0, 50.0)),
    ("县人民医院", "县卫健委", (-300.0, 700.0)),
    ("县中医院", "县卫健委", None),
    ("县实验小学", "县教体局", (-1100.0, -200.0)),
    ("县职业中专", "县教体局", None),
    ("县公安局机关大院", "县公安局", None),
    ("县税务局机关大院", "县税务局", None),
    ("县供电公司大院", "县供电公司", None),
    ("县移动公司营业大院", "县移动公司", None),
    ("县财政局机关大院", "县财政局", (1100.0, 600.0)),
    ("县住建局机关大院", "县住建局", None),
    ("县水利局机关大院", "县水利局", None),
    ("县农业农村局机关大院", "县农业农村局", None),
    ("县交警大队营区", "县交警大队", (1200.0, -300.0)),
    ("县城管局(城管大队)大院", "县城管局", (-600.0, -250.0)),
    ("县市场监管局机关大院", "县市场监管局", None),
    ("县房管局(不动产登记中心)", "县房管局", None),
    ("敦厚镇政府机关大院", TOWN_GOVERNMENT, (-1300.0, -1000.0)),
)
MULTI_YARD = ("县第一中学(东、西校区)", "县教体局")
MARKETS = (
    ("城关市场", "县市场监管局", (-450.0, 150.0)),
    ("东门农贸市场", "县市场监管局", (1450.0, -150.0)),
    ("北门菜市场", "县市场监管局", (-150.0, 1350.0)),
    ("城南农贸市场", "县商务局", (-350.0, -1450.0)),
)
MALL = ("赣中商贸城", "县商务局", (1350.0, 750.0))
PARK = ("人民公园", "县城管局")
PUBLIC_SPACES = (
    ("人民广场", "县城管局", (250.0, -250.0)),
    ("文化广场", "县文广新旅局", (-1250.0, 450.0)),
    ("体育公园", "县教体局", (900.0, 1500.0)),
    ("北门游园", "县住建局", (-900.0, 1450.0)),
)
HOLE_OUTER = "幸福小区(无物业)"
HOLE_INNER = ("幸福社区文化广场", "县城管局")
RIVER_OWNER = "县水利局"


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


UV_BY_DIRECTION = {"E": "东门城中村", "S": "南门城中村", "W": "西门城中村", "N": "北门城中村"}
UV_EXTRA = ("塘头城中村", "下街城中村", "黄泥岭城中村", "杨家坊城中村", "洲上城中村")
N_URBAN_VILLAGES = 7

ALLEY_NAMES = _words(
    "仓前巷 石板巷 杨家巷 学前巷 豆芽巷 油坊巷 铁匠巷 井头巷 米市巷 盐仓巷 竹器巷 水门巷 孝义巷 "
    "仁和巷 三眼井巷 万寿宫巷 营门巷 书院巷 打铁巷 桂花巷 染坊巷 棋盘巷 鼓楼巷 太平巷 福寿巷 柴市巷 "
    "草鞋巷 花园巷 城隍庙巷 文庙巷 古井巷 梅家巷 周家巷 刘家巷 黄家巷 吴家巷 谢家巷 罗家巷 胡家巷 "
    "彭家巷 官塘巷 新塘巷 上河巷 下河巷 码头巷 瓦窑巷 槐树巷 樟树巷 柳树巷 荷花巷 五福巷 长寿巷 "
    "平安巷 吉祥巷 永宁巷 双井巷 大夫第巷 状元巷 东升巷 西华巷 南薰巷 北辰巷 聚宝巷 财神巷 和睦巷 "
    "兴隆巷 丰乐巷 安居巷 宝塔巷 钟楼巷"
)
NAME_PREFIXES = _words(
    "和平 建设 文化 胜利 锦绣 阳光 金色 丽景 书香 翠湖 东方 育才 园丁 康乐 福泽 东湖 南湖 "
    "银杏 桂园 紫薇 香樟 碧水 景秀 金鹏 宏图 恒丰 瑞祥 龙湾 凤凰 鸿运 长虹 天成 嘉和 怡景 御景 "
    "盛世 春晖 清华 明珠 富民 兴业 安康 永和 泰和 华荣 润泽 丰源 金桂 玉兰 芙蓉 荷塘 绿洲 晨曦 "
    "朝阳 星河 山水 凤栖 双江 金城 新华 红旗 向阳 曙光 前进 团结 光明 友谊 民主 五一 丰收 跃进"
)
MANAGED_SUFFIXES = ("花园", "华庭", "苑", "名都", "嘉园", "雅居", "新城", "公馆", "小区", "家园")
OLD_ORGS = _words(
    "粮食局 供销社 物资局 商业局 食品公司 百货公司 糖酒公司 农机厂 纺织厂 化肥厂 印刷厂 酒厂 "
    "五金厂 磷肥厂 木材公司 外贸公司 医药公司 轻工局 交通局 邮电局"
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蔡蒋余"
GIVEN = _words(
    "伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 涛 明 超 秀英 华 平 刚 桂英 建华 志强 海燕 小红 "
    "建国 晓东 文军 春梅 国平 建军 卫东 红霞 丽华 德华 永忠 玉兰 俊 辉 斌 鹏 浩 婷 琳 颖"
)
