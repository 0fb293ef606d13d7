"""Generate the synthetic demo county ("X县城", fictional) used by geoapp's demos and tests.

Pipeline (all geometry is built in UTM zone 50N, EPSG:32650):

1. Lay out the town in a flat *parameter plane* (``u`` east, ``v`` north, metres from the town
   centre): an irregular outline, five N-S and four E-W main roads as 30 m corridors, a river
   band (a riverside park), 8 m back alleys inside each block and divider lines that split the
   sub-blocks into compounds.
2. Densify every line and push it through a smooth warp (gentle curvature plus a rotation) into
   UTM.
3. Node all lines with ``shapely.union_all`` and ``shapely.polygonize`` them into faces. Every
   face is classified by unwarping a point inside it back into the parameter plane.
4. Group faces into contracted areas (road segments, alley pieces, park segments, compounds),
   merge slivers into a neighbour and repair T-junctions, so that two neighbouring areas always
   share the *same* run of vertices along their common border.
5. Transform every vertex to EPSG:4326 and round it to 7 decimals. Equal vertices round to equal
   values, so shared edges stay exactly shared: the tiling is exact by construction. The county
   outline is the union of the rounded areas.
6. Districts are grown over the adjacency graph (so each is contiguous), then units, rules and
   problem points are drawn. Everything comes from one seeded RNG and is written in a fixed
   order, so the output is byte-for-byte reproducible.
"""

from __future__ import annotations

import csv
import json
import math
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box
from shapely.geometry.base import BaseGeometry
from shapely.ops import split

SEED = 20240415
DEFAULT_OUT = Path(__file__).resolve().parents[2] / "data" / "geojson"

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

CATEGORIES = (
    ("overflowing_bin", "垃圾桶满溢", "Overflowing bin", 24),
    ("litter", "垃圾落地", "Litter on the ground", 24),
    ("urban_village_disorder", "城中村“十乱”", "Urban-village disorder (the ten disorders)", 72),
    ("red_light", "闯红灯", "Red-light running", 24),
    ("tricycle_uturn", "三轮车随意调头", "Tricycles turning at will", 24),
    ("illegal_parking", "小车乱停放", "Illegal car parking", 24),
    ("nonmotor_weaving", "非机动车乱窜", "Non-motor vehicles weaving", 24),
    (
        "market_tricycle_parking",
        "市场周边两三轮车乱停乱放",
        "Disorderly two- and three-wheeler parking around markets",
        48,
    ),
    ("outside_trading", "店外经营/门前三包", "Trading outside the shop (门前三包)", 48),
    ("bulletin_board", "健康教育宣传栏未更新", "Health-education bulletin board not updated", 168),
    ("food_safety", "食品安全", "Food safety", 72),
    ("compound_hygiene", "小区环境卫生", "Residential compound hygiene", 72),
    ("construction_waste", "建筑垃圾乱堆", "Construction waste dumped", 72),
    ("idle_plot", "闲置地块脏乱", "Neglected idle plot", 168),
    ("other", "其他", "Other", 72),
)

# rule_id, priority, category, area_kind ("" = any), unit name, note.
# Priorities are unique; R15 is listed last but outranks R04 on purpose.
RULES = (
    ("R01", 20, "red_light", "", "县交警大队", "交通秩序：闯红灯由交警大队管控"),
    ("R02", 21, "tricycle_uturn", "", "县交警大队", "交通秩序：三轮车随意调头"),
    ("R03", 22, "nonmotor_weaving", "", "县交警大队", "交通秩序：非机动车乱窜"),
    ("R04", 23, "illegal_parking", "", "县交警大队", "交通秩序：小车乱停放"),
    ("R05", 30, "food_safety", "", "县市场监管局", "食品安全由市场监管局负责"),
    ("R06", 40, "market_tricycle_parking", "", "县城管局", "市场周边两三轮车乱停乱放"),
    ("R07", 41, "outside_trading", "", "县城管局", "店外经营、门前三包劝阻"),
    ("R08", 50, "urban_village_disorder", "urban_village", TOWN_GOVERNMENT, "城中村无“十乱”"),
    ("R09", 55, "urban_village_disorder", "", "城乡结合部专项组", "城中村以外的“十乱”现象"),
    ("R10", 60, "compound_hygiene", "compound_managed", "县房管局", "房管局督促物业公司"),
    ("R11", 70, "overflowing_bin", "main_road", CLEANING_COMPANY, "城管局督促保洁公司"),
    ("R12", 71, "overflowing_bin", "back_alley", CLEANING_COMPANY, "城管局督促保洁公司"),
    ("R13", 72, "overflowing_bin", "open_compound", CLEANING_COMPANY, "城管局督促保洁公司"),
    ("R14", 80, "construction_waste", "", "县城管大队", "建筑垃圾由城管大队查处"),
    ("R15", 10, "illegal_parking", "compound_managed", "县房管局", "有物业小区内停车秩序"),
    ("R16", 90, "idle_plot", "", "闲置地块专项组", "闲置地块专项整治"),
)

# category weights by area kind, for interior problem points
CATEGORY_WEIGHTS: dict[str, dict[str, float]] = {
    "main_road": {
        "overflowing_bin": 14,
        "litter": 14,
        "red_light": 12,
        "tricycle_uturn": 10,
        "illegal_parking": 14,
        "nonmotor_weaving": 10,
        "outside_trading": 12,
        "food_safety": 3,
        "construction_waste": 4,
        "bulletin_board": 2,
        "other": 5,
    },
    "back_alley": {
        "overflowing_bin": 18,
        "litter": 22,
        "illegal_parking": 8,
        "outside_trading": 10,
        "construction_waste": 8,
        "bulletin_board": 4,
        "food_safety": 4,
        "nonmotor_weaving": 3,
        "other": 6,
    },
    "compound_managed": {
        "compound_hygiene": 30,
        "overflowing_bin": 12,
        "litter": 12,
        "illegal_parking": 10,
        "bulletin_board": 8,
        "construction_waste": 6,
        "other": 4,
    },
    "compound_unmanaged": {
        "compound_hygiene": 25,
        "overflowing_bin": 20,
        "litter": 20,
        "illegal_parking": 6,
        "bulletin_board": 8,
        "construction_waste": 8,
        "idle_plot": 3,
        "other": 5,
    },
    "open_compound": {
        "overflowing_bin": 20,
        "litter": 20,
        "compound_hygiene": 15,
        "illegal_parking": 10,
        "outside_trading": 6,
        "bulletin_board": 8,
        "other": 5,
    },
    "urban_village": {
        "urban_village_disorder": 40,
        "litter": 15,
        "overflowing_bin": 12,
        "construction_waste": 8,
        "bulletin_board": 8,
        "idle_plot": 6,
        "food_safety": 4,
        "other": 4,
    },
    "market": {
        "market_tricycle_parking": 30,
        "outside_trading": 18,
        "food_safety": 20,
        "litter": 12,
        "overflowing_bin": 12,
        "other": 4,
    },
    "public_space": {
        "litter": 25,
        "overflowing_bin": 20,
        "outside_trading": 8,
        "bulletin_board": 10,
        "nonmotor_weaving": 4,
        "idle_plot": 4,
        "other": 6,
    },
    "unit_yard": {
        "bulletin_board": 25,
        "litter": 15,
        "overflowing_bin": 10,
        "illegal_parking": 10,
        "compound_hygiene": 8,
        "other": 6,
    },
}
BORDER_CATEGORIES = {
    "litter": 20,
    "overflowing_bin": 16,
    "illegal_parking": 14,
    "outside_trading": 10,
    "construction_waste": 8,
    "market_tricycle_parking": 4,
    "bulletin_board": 4,
    "other": 6,
}
OUTSIDE_CATEGORIES = {
    "construction_waste": 18,
    "litter": 14,
    "idle_plot": 14,
    "illegal_parking": 10,
    "urban_village_disorder": 10,
    "overflowing_bin": 8,
    "other": 6,
}
KIND_PROBLEM_WEIGHT = {
    "main_road": 2.4,
    "back_alley": 1.8,
    "compound_managed": 0.7,
    "compound_unmanaged": 1.6,
    "open_compound": 1.3,
    "urban_village": 2.6,
    "market": 4.0,
    "public_space": 1.0,
    "unit_yard": 0.5,
}
DEDUCTIONS: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "default": ((0.2, 0.5, 1.0), (0.35, 0.45, 0.2)),
    "red_light": ((0.5, 1.0), (0.6, 0.4)),
    "food_safety": ((0.5, 1.0, 2.0), (0.3, 0.45, 0.25)),
    "urban_village_disorder": ((0.5, 1.0, 2.0), (0.4, 0.4, 0.2)),
    "bulletin_board": ((0.2, 0.5), (0.6, 0.4)),
    "compound_hygiene": ((0.5, 1.0, 2.0), (0.45, 0.4, 0.15)),
    "construction_waste": ((0.5, 1.0, 2.0), (0.4, 0.4, 0.2)),
}
DESCRIPTIONS = {
    "overflowing_bin": (
        "垃圾桶满溢，周边堆放垃圾",
        "垃圾桶满溢未及时清运",
        "垃圾桶破损且满溢",
        "垃圾收集点满溢，有异味",
        "分类垃圾桶满溢，桶盖缺失",
        "垃圾桶周边散落垃圾袋",
    ),
    "litter": (
        "地面有烟头、纸屑",
        "垃圾落地未及时清扫",
        "绿化带内有白色垃圾",
        "路面有积存垃圾",
        "墙角堆积杂物垃圾",
        "地面油污未清洗",
    ),
    "urban_village_disorder": (
        "乱搭乱建雨棚",
        "乱拉乱挂电线",
        "房前屋后乱堆乱放",
        "乱贴乱画小广告",
        "乱养家禽",
        "乱倒污水",
        "乱晾乱晒",
        "乱设摊点",
        "乱停乱放车辆",
        "乱扔垃圾",
    ),
    "red_light": ("行人闯红灯", "电动车闯红灯", "闯红灯现象多发", "机动车闯红灯未礼让行人"),
    "tricycle_uturn": ("三轮车随意调头", "三轮车逆行调头，影响通行", "三轮车违规掉头"),
    "illegal_parking": (
        "小车乱停放",
        "机动车占用人行道停放",
        "车辆占用消防通道停放",
        "车辆未按规定停放，堵塞通道",
    ),
    "nonmotor_weaving": (
        "非机动车乱窜",
        "电动车占用机动车道行驶",
        "非机动车逆行",
        "电动车随意穿插",
    ),
    "market_tricycle_parking": (
        "两三轮车乱停乱放",
        "三轮车占道停放，影响居民出行",
        "电动车、三轮车堵塞通道",
        "两轮车无序停放",
    ),
    "outside_trading": (
        "店外经营，占道摆摊",
        "门前三包未落实，门前有垃圾",
        "商户跨门经营",
        "流动摊贩占道经营",
        "门店外堆放货物",
    ),
    "bulletin_board": (
        "健康教育宣传栏未更新至第五期",
        "宣传栏内容陈旧破损",
        "未设置健康教育宣传栏",
        "宣传栏版面缺失",
    ),
    "food_safety": (
        "食品摊点无健康证",
        "熟食未加防蝇罩",
        "餐饮店后厨卫生脏乱",
        "生熟食品混放",
        "三小店证照不全",
    ),
    "compound_hygiene": (
        "楼道内堆放杂物",
        "绿化带垃圾未清理",
        "化粪池满溢",
        "污水横流",
        "楼道小广告未清理",
        "卫生死角未清理",
    ),
    "construction_waste": (
        "建筑垃圾随意堆放",
        "装修垃圾未及时清运",
        "渣土未覆盖",
        "建筑垃圾占用道路",
    ),
    "idle_plot": (
        "闲置地块杂草丛生",
        "闲置地块堆放生活垃圾",
        "闲置地块未围挡",
        "闲置地块积水滋生蚊蝇",
    ),
    "other": ("病媒生物防制设施缺失", "公厕卫生不达标", "下水道堵塞", "毒饵站缺失", "井盖破损"),
}
PLACES = {
    "main_road": ("路口", "人行道上", "公交站台旁", "绿化带边", "沿街门店前"),
    "back_alley": ("巷口", "巷内", "巷道拐角处"),
    "compound_managed": ("小区出入口", "楼道内", "单元门口", "小区广场"),
    "compound_unmanaged": ("小区出入口", "楼道内", "楼栋间空地", "小区围墙边"),
    "open_compound": ("小区出入口", "楼栋间空地", "宿舍区道路旁"),
    "urban_village": ("村内巷道", "村口", "房前屋后"),
    "market": ("市场入口", "市场周边", "摊位区", "市场后门"),
    "public_space": ("广场内", "公园步道旁", "健身区旁"),
    "unit_yard": ("大院内", "单位门口", "停车场内"),
    "border": ("交界处", "两区交界路段", "路口转角"),
    "outside": ("城郊结合部", "城区外围道路旁", "城外空地"),
}

ROUNDS = (
    # name, first day, number of days, interior problems, inspectors
    ("市级评估", (2024, 4, 15), 5, 1990, ("李明", "王芳", "刘洋", "陈静", "杨帆", "赵磊")),
    ("省级评估", (2024, 9, 9), 4, 1500, ("黄丽", "周杰", "吴刚", "徐敏", "孙涛", "马俊")),
)
STATUS_WEIGHTS = {
    "市级评估": {"verified": 0.86, "rectified": 0.09, "rectifying": 0.05},
    "省级评估": {
        "reported": 0.2,
        "assigned": 0.3,
        "rectifying": 0.25,
        "rectified": 0.15,
        "verified": 0.1,
    },
}
N_VERTEX, N_EDGE, N_OUTSIDE = 40, 40, 30
#: Share of the closed demo problems rectified after their deadline; their own random stream.
LATE_SHARE, RECTIFY_SEED_OFFSET = 0.2, 1
TZ = timezone(timedelta(hours=8))


# =============================================================================================
# warp: parameter plane -> UTM
# =============================================================================================
class Warp:
    """Smooth, invertible map from the parameter plane to UTM 50N."""

    def __init__(self, x0: float, y0: float, theta_deg: float = 9.0) -> None:
        self.x0, self.y0 = x0, y0
        t = math.radians(theta_deg)
        self.c, self.s = math.cos(t), math.sin(t)

    @staticmethod
    def _disp(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        tau = 2.0 * np.pi
        du = 48.0 * np.sin(tau * v / 3100.0 + 0.6) + 22.0 * np.sin(tau * (u + v) / 1900.0 + 1.9)
        dv = 42.0 * np.sin(tau * u / 2700.0 + 2.3) + 18.0 * np.sin(tau * (u - v) / 1700.0 + 0.4)
        return du, dv

    def forward(self, uv: np.ndarray) -> np.ndarray:
        u, v = uv[:, 0], uv[:, 1]
        du, dv = self._disp(u, v)
        up, vp = u + du, v + dv
        x = self.x0 + self.c * up - self.s * vp
        y = self.y0 + self.s * up + self.c * vp
        return np.column_stack([x, y])

    def inverse(self, xy: np.ndarray) -> np.ndarray:
        dx, dy = xy[:, 0] - self.x0, xy[:, 1] - self.y0
        up = self.c * dx + self.s * dy
        vp = -self.s * dx + self.c * dy
        u, v = up.copy(), vp.copy()
        for _ in range(80):  # contraction (|grad disp| < 0.2): converges to machine precision
            du, dv = self._disp(u, v)
            u, v = up - du, vp - dv
        return np.column_stack([u, v])


# =============================================================================================
# layout in the parameter plane
# =============================================================================================
@dataclass
class SubBlock:
    c: int
    r: int
    si: int
    sj: int
    u0: float
    u1: float
    v0: float
    v1: float
    inside_area: float
    inside_bounds: tuple[float, float, float, float]
    fully_inside: bool
    special: str | None = None

    @property
    def key(self) -> tuple[int, int, int, int]:
        return (self.c, self.r, self.si, self.sj)

    @property
    def center(self) -> tuple[float, float]:
        b = self.inside_bounds
        return ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0)


@dataclass
class Block:
    c: int
    r: int
    u0: float
    u1: float
    v0: float
    v1: float
    valleys: list[float] = field(default_factory=list)
    # horizontal alleys: (v, first sub-column, last sub-column); they may stop at a vertical alley
    halleys: list[tuple[float, int, int]] = field(default_factory=list)

    def column(self, u: float) -> int:
        return bisect_right(self.valleys, u)

    def hcuts(self, col: int) -> list[float]:
        return sorted(b for b, k0, k1 in self.halleys if k0 <= col <= k1)

    def column_span(self, k0: int, k1: int) -> tuple[float, float]:
        lo = self.u0 if k0 == 0 else self.valleys[k0 - 1] + ALLEY_HALF
        hi = self.u1 if k1 == len(self.valleys) else self.valleys[k1] - ALLEY_HALF
        return lo, hi


@dataclass
class Layout:
    us: list[float]
    vs: list[float]
    outline: np.ndarray
    river_phase: tuple[float, float]
    blocks: dict[tuple[int, int], Block]
    subblocks: dict[tuple[int, int, int, int], SubBlock]
    square: tuple[float, float, float, float] | None
    lines: list[np.ndarray]

    def river(self, u: np.ndarray | float) -> np.ndarray | float:
        mid = (self.vs[0] + self.vs[1]) / 2.0
        p0, p1 = self.river_phase
        return (
            mid
            + 110.0 * np.sin(2 * np.pi * u / 2300.0 + p0)
            + 38.0 * np.sin(2 * np.pi * u / 870.0 + p1)
        )

    def block_of(self, u: float, v: float) -> tuple[int, int]:
        return bisect_right(self.us, u), bisect_right(self.vs, v)


def _make_outline(rng: np.random.Generator) -> np.ndarray:
    n = 120
    t = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    ph = rng.uniform(0.0, 2.0 * np.pi, 4)
    a, b, p = 2450.0, 1950.0, 3.0
    base = 1.0 / ((np.abs(np.cos(t)) / a) ** p + (np.abs(np.sin(t)) / b) ** p) ** (1.0 / p)
    mod = (
        1.0
        + 0.06 * np.sin(2 * t + ph[0])
        + 0.045 * np.sin(3 * t + ph[1])
        + 0.03 * np.sin(5 * t + ph[2])
        + 0.015 * np.sin(11 * t + ph[3])
        + rng.uniform(-0.01, 0.01, n)
    )
    r = base * mod
    return np.column_stack([r * np.cos(t), r * np.sin(t)])


def _intervals(lo: float, hi: float, cuts: list[float], half: float) -> list[tuple[float, float]]:
    edges = [lo]
    for c in cuts:
        edges += [c - half, c + half]
    edges.append(hi)
    return [(edges[2 * i], edges[2 * i + 1]) for i in range(len(cuts) + 1)]


def _extend(seg: np.ndarray, by: float) -> np.ndarray:
    """Lengthen a polyline at both ends along its end segments."""
    seg = seg.copy()
    d0 = seg[0] - seg[1]
    d1 = seg[-1] - seg[-2]
    seg[0] = seg[0] + by * d0 / np.hypot(*d0)
    seg[-1] = seg[-1] + by * d1 / np.hypot(*d1)
    return seg


def _split_region(
    region: Polygon, rng: np.random.Generator, out: list[np.ndarray], depth: int
) -> None:
    """Recursively cut ``region`` into compounds with zero-width divider lines.

    Each divider is clipped to the region and lengthened by ``OVERSHOOT`` at both ends, so it
    crosses the region's border (an alley or road edge, the outline, or an earlier divider) and
    is noded there; the 2 m overshoot is a dangle that ``polygonize`` drops.
    """
    target = float(rng.uniform(100000.0, 230000.0))
    x0, y0, x1, y1 = region.bounds
    w, h = x1 - x0, y1 - y0
    if region.area <= target or depth >= 5:
        rect = region.area / (w * h) > 0.999
        if rect and region.area > 50000.0 and rng.random() < 0.3:
            o = OVERSHOOT
            x = x0 + float(rng.uniform(0.4, 0.6)) * w
            y = y0 + float(rng.uniform(0.4, 0.6)) * h
            ex, ey = (x0 - o, x1 + o)[int(rng.integers(2))], (y0 - o, y1 + o)[int(rng.integers(2))]
            out.append(np.array([[x, ey], [x, y], [ex, y]]))  # carves an L out of the block
        return
    t = float(rng.uniform(0.38, 0.62))
    slant = 0.08 if depth == 0 else 0.03
    if w >= h:
        s = float(rng.uniform(-slant, slant)) * w
        x = x0 + t * w
        line = LineString([(x - s, y0 - 60.0), (x + s, y1 + 60.0)])
    else:
        s = float(rng.uniform(-slant, slant)) * h
        y = y0 + t * h
        line = LineString([(x0 - 60.0, y - s), (x1 + 60.0, y + s)])
    for piece in shapely.get_parts(line.intersection(region)):
        if piece.geom_type == "LineString" and piece.length > 1.0:
            out.append(_extend(shapely.get_coordinates(piece), OVERSHOOT))
    children = [g for g in shapely.get_parts(split(region, line)) if g.area > 1.0]
    for child in sorted(children, key=lambda g: (g.bounds[0], g.bounds[1])):
        _split_region(child, rng, out, depth + 1)


def _dividers(sb: SubBlock, outline_poly: Polygon, rng: np.random.Generator) -> list[np.ndarray]:
    """Zero-width lines that split one sub-block into compounds."""
    if sb.special is not None or sb.inside_area < 30000.0:
        return []
    region = box(sb.u0, sb.v0, sb.u1, sb.v1).intersection(outline_poly)
    out: list[np.ndarray] = []
    for part in shapely.get_parts(region):
        if part.geom_type == "Polygon" and part.area > 30000.0:
            _split_region(part, rng, out, 0)
    return out


def _pick_nearest(cands: list[SubBlock], target: tuple[float, float]) -> SubBlock:
    return min(cands, key=lambda s: (math.dist(s.center, target), s.key))


def build_layout(rng: np.random.Generator) -> Layout:
    us = [round(u + float(rng.uniform(-40.0, 40.0)), 1) for u in U_BASE]
    vs = [round(v + float(rng.uniform(-40.0, 40.0)), 1) for v in V_BASE]
    outline = _make_outline(rng)
    outline_poly = Polygon(outline)
    river_phase = (float(rng.uniform(0, 2 * np.pi)), float(rng.uniform(0, 2 * np.pi)))
    lay = Layout(us, vs, outline, river_phase, {}, {}, None, [])

    ncol, nrow = len(us) + 1, len(vs) + 1
    for c in range(ncol):
        ulo = -FAR_U if c == 0 else us[c - 1] + ROAD_HALF
        uhi = FAR_U if c == ncol - 1 else us[c] - ROAD_HALF
        for r in range(nrow):
            vlo = -FAR_V if r == 0 else vs[r - 1] + ROAD_HALF
            vhi = FAR_V if r == nrow - 1 else vs[r] - ROAD_HALF
            inter = box(ulo, vlo, uhi, vhi).intersection(outline_poly)
            blk = Block(c, r, ulo, uhi, vlo, vhi)
            lay.blocks[(c, r)] = blk
            if inter.area < 1.0:
                continue
            eb = inter.bounds
            w, h = eb[2] - eb[0], eb[3] - eb[1]
            n_va = 0 if w < 380 else (1 if w < 1000 else 2)
            for k in range(n_va):
                step = w / (n_va + 1)
                blk.valleys.append(eb[0] + step * (k + 1) + float(rng.uniform(-0.1, 0.1)) * step)
            if r != RIVER_ROW and h >= 420 and rng.random() < 0.5:
                b = eb[1] + h / 2.0 + float(rng.uniform(-0.1, 0.1)) * h / 2.0
                if n_va and rng.random() < 0.7:  # T-junction: the alley serves one sub-column
                    k = int(rng.integers(n_va + 1))
                    blk.halleys.append((b, k, k))
                else:
                    blk.halleys.append((b, 0, n_va))
            for si, (a0, a1) in enumerate(_intervals(ulo, uhi, blk.valleys, ALLEY_HALF)):
                for sj, (b0, b1) in enumerate(_intervals(vlo, vhi, blk.hcuts(si), ALLEY_HALF)):
                    rect = box(a0, b0, a1, b1)
                    part = rect.intersection(outline_poly)
                    if part.area < 1.0:
                        continue
                    sb = SubBlock(
                        c,
                        r,
                        si,
                        sj,
                        a0,
                        a1,
                        b0,
                        b1,
                        part.area,
                        part.bounds,
                        rect.buffer(25.0).within(outline_poly),
                    )
                    lay.subblocks[sb.key] = sb

    _choose_specials(lay, rng)

    # ---- lines ----
    lines = lay.lines
    lines.append(np.vstack([outline, outline[:1]]))
    for u in us:
        for d in (-ROAD_HALF, ROAD_HALF):
            lines.append(np.array([[u + d, -FAR_V], [u + d, FAR_V]]))
        for v in vs:  # split each N-S corridor at the E-W road centre lines
            lines.append(np.array([[u - ROAD_HALF - OVERSHOOT, v], [u + ROAD_HALF + OVERSHOOT, v]]))
    for v in vs:
        for d in (-ROAD_HALF, ROAD_HALF):
            lines.append(np.array([[-FAR_U, v + d], [FAR_U, v + d]]))
    uu = np.arange(-FAR_U, FAR_U + 1e-9, 10.0)
    rv = lay.river(uu)
    lines.append(np.column_stack([uu, rv - RIVER_HALF]))
    lines.append(np.column_stack([uu, rv + RIVER_HALF]))
    for (_c, _r), blk in sorted(lay.blocks.items()):
        for a in blk.valleys:
            for d in (-ALLEY_HALF, ALLEY_HALF):
                lines.append(np.array([[a + d, blk.v0 - OVERSHOOT], [a + d, blk.v1 + OVERSHOOT]]))
        for b, k0, k1 in blk.halleys:
            lo, hi = blk.column_span(k0, k1)
            for d in (-ALLEY_HALF, ALLEY_HALF):
                lines.append(np.array([[lo - OVERSHOOT, b + d], [hi + OVERSHOOT, b + d]]))
    for _key, sb in sorted(lay.subblocks.items()):
        lines.extend(_dividers(sb, outline_poly, rng))
    if lay.square is not None:
        a0, b0, a1, b1 = lay.square
        lines.append(np.array([[a0, b0], [a1, b0], [a1, b1], [a0, b1], [a0, b0]]))
    return lay


def _choose_specials(lay: Layout, rng: np.random.Generator) -> None:
    sbs = [lay.subblocks[k] for k in sorted(lay.subblocks)]

    def free_inside() -> list[SubBlock]:
        return [s for s in sbs if s.fully_inside and s.special is None and s.r != RIVER_ROW]

    _pick_nearest(free_inside(), (-300.0, -100.0)).special = "park"
    hole = _pick_nearest([s for s in free_inside() if s.inside_area < 160000.0], (-750.0, 650.0))
    hole.special = "hole"
    cu, cv = hole.center
    lay.square = (cu - 30.0, cv - 22.0, cu + 30.0, cv + 22.0)

    # urban villages: on the outskirts, spread around the compass
    cands = [
        s
        for s in sbs
        if s.special is None
        and not s.fully_inside
        and s.r != RIVER_ROW
        and 45000.0 <= s.inside_area <= 260000.0
    ]
    offset = float(rng.uniform(0, 2 * np.pi))
    for k in range(N_URBAN_VILLAGES):
        target = offset + 2 * np.pi * k / N_URBAN_VILLAGES
        free = [s for s in cands if s.special is None]

        def angdist(s: SubBlock, target: float = target) -> tuple[float, tuple[int, ...]]:
            ang = math.atan2(s.center[1], s.center[0])
            d = abs((ang - target + np.pi) % (2 * np.pi) - np.pi)
            return (d, s.key)

        min(free, key=angdist).special = "uv"


# =============================================================================================
# noding, faces, areas
# =============================================================================================
@dataclass
class Area:
    geom: BaseGeometry  # UTM; replaced by the T-junction-repaired version
    family: str  # vroad, hroad, river, valley, halley, parcel, square, multi
    key: tuple
    special: str | None = None
    comp: int = 0
    kind: str = ""
    name: str = ""
    owner: str = ""
    district: int = -1
    ll: BaseGeometry | None = None  # EPSG:4326, rounded
    area_id: str = ""

    @property
    def group(self) -> tuple:
        return (self.family, *self.key)


def _to_utm_line(pts: np.ndarray, warp: Warp) -> LineString:
    dense = shapely.segmentize(LineString(pts), DENSIFY)
    return LineString(warp.forward(shapely.get_coordinates(dense)))


def _clean_edge(coords: np.ndarray) -> np.ndarray:
    """Drop interior (non-node) vertices closer than 0.5 m to a kept neighbour."""
    n = len(coords)
    if n <= 2:
        return coords
    keep = [0]
    end = coords[-1]
    for i in range(1, n - 1):
        p = coords[i]
        q = coords[keep[-1]]
        if (
            math.hypot(p[0] - q[0], p[1] - q[1]) >= 0.5
            and math.hypot(p[0] - end[0], p[1] - end[1]) >= 0.5
        ):
            keep.append(i)
    keep.append(n - 1)
    return coords[keep]


def build_faces(lay: Layout, warp: Warp) -> tuple[list[Polygon], Polygon]:
    utm_lines = [_to_utm_line(p, warp) for p in lay.lines]
    noded = shapely.union_all(utm_lines)
    edges = []
    for e in shapely.get_parts(noded):
        coords = _clean_edge(shapely.get_coordinates(e))
        edge = LineString(coords)
        if edge.length < MIN_EDGE:
            raise RuntimeError(f"degenerate edge of {edge.length:.4f} m at {coords[0]}")
        edges.append(edge)
    faces = list(shapely.get_parts(shapely.polygonize(edges)))
    outline_utm = Polygon(shapely.get_coordinates(_to_utm_line(lay.lines[0], warp)))
    return faces, outline_utm


def classify(lay: Layout, u: float, v: float) -> tuple:
    for i, x in enumerate(lay.us):
        if abs(u - x) < ROAD_HALF:
            return ("vroad", i, bisect_right(lay.vs, v))
    for j, y in enumerate(lay.vs):
        if abs(v - y) < ROAD_HALF:
            return ("hroad", j, bisect_right(lay.us, u))
    if abs(v - float(lay.river(u))) < RIVER_HALF:
        return ("river", bisect_right(lay.us, u))
    if lay.square is not None:
        a0, b0, a1, b1 = lay.square
        if a0 < u < a1 and b0 < v < b1:
            return ("square",)
    c, r = lay.block_of(u, v)
    blk = lay.blocks[(c, r)]
    for k, a in enumerate(blk.valleys):
        if abs(u - a) < ALLEY_HALF:
            return ("valley", c, r, k)
    col = blk.column(u)
    for k, (b, k0, k1) in enumerate(blk.halleys):
        if abs(v - b) < ALLEY_HALF and k0 <= col <= k1:
            return ("halley", c, r, k)
    return ("parcel", c, r, col, bisect_right(blk.hcuts(col), v))


def build_areas(lay: Layout, warp: Warp) -> list[Area]:
    faces, outline_utm = build_faces(lay, warp)
    reps = shapely.point_on_surface(faces)
    rx, ry = shapely.get_x(reps), shapely.get_y(reps)
    inside = shapely.contains_xy(outline_utm, rx, ry)
    uv = warp.inverse(np.column_stack([rx, ry]))

    groups: dict[tuple, list[int]] = {}
    specials: dict[tuple, str | None] = {}
    for i in range(len(faces)):
        if not inside[i]:
            continue
        key = classify(lay, float(uv[i, 0]), float(uv[i, 1]))
        special = None
        if key[0] == "parcel":
            sb = lay.subblocks.get(key[1:])
            special = sb.special if sb is not None else None
            if special is None:
                key = (*key, i)  # every plain parcel face is its own compound
        elif key[0] == "square":
            special = "square"
        groups.setdefault(key, []).append(i)
        specials[key] = special

    areas: list[Area] = []
    for key, idx in groups.items():
        geom = faces[idx[0]] if len(idx) == 1 else shapely.union_all([faces[i] for i in idx])
        # a group cut in two (an alley crossed by the river) becomes one area per piece
        for comp, part in enumerate(shapely.get_parts(geom)):
            areas.append(Area(part, key[0], key[1:], specials[key], comp))
    areas = _merge_slivers(areas)
    _make_multi(areas, warp)
    _repair_tjunctions(areas)
    return areas


def _make_multi(
    areas: list[Area], warp: Warp, target: tuple[float, float] = (350.0, 800.0)
) -> None:
    """Join two compounds that face each other across a back alley into one MultiPolygon area."""
    alleys = [a for a in areas if a.family == "valley"]
    best: tuple[float, int, int] | None = None
    plain = [
        i
        for i, a in enumerate(areas)
        if a.family == "parcel" and a.special is None and 20000.0 <= a.geom.area <= 110000.0
    ]
    for alley in alleys:
        c, r, k = alley.key
        sides: dict[int, list[tuple[int, BaseGeometry]]] = {k: [], k + 1: []}
        for i in plain:
            a = areas[i]
            if a.key[0] == c and a.key[1] == r and a.key[2] in sides:
                shared = a.geom.boundary.intersection(alley.geom.boundary)
                if shared.length > 60.0:
                    sides[a.key[2]].append((i, shared))
        for i, si in sides[k]:
            for j, sj in sides[k + 1]:
                facing = si.buffer(ALLEY_HALF * 2.5).intersection(sj).length
                if facing < 50.0:
                    continue
                mid = shapely.centroid(MultiPolygon([areas[i].geom, areas[j].geom]))
                uv = warp.inverse(np.array([[mid.x, mid.y]]))[0]
                score = math.dist((float(uv[0]), float(uv[1])), target)
                if best is None or (score, i, j) < best:
                    best = (score, i, j)
    if best is None:
        raise RuntimeError("no pair of compounds for the two-part unit yard")
    _, i, j = best
    areas[i] = Area(MultiPolygon([areas[i].geom, areas[j].geom]), "multi", ())
    del areas[j]


def _shared_lengths(a: BaseGeometry, others: list[BaseGeometry]) -> np.ndarray:
    if not others:
        return np.zeros(0)
    inter = shapely.intersection(a.boundary, shapely.boundary(np.array(others, dtype=object)))
    return shapely.length(inter)


def _merge_slivers(areas: list[Area]) -> list[Area]:
    def too_small(a: Area) -> bool:
        if a.family in ("multi", "square") or a.special == "uv":
            return False
        if a.family == "parcel":  # small, or a thin strip (mean width under ~16 m)
            return a.geom.area < 2500.0 or a.geom.area < 8.0 * a.geom.length
        return a.geom.area < 900.0

    while True:
        small = [i for i, a in enumerate(areas) if too_small(a)]
        if not small:
            return areas
        i = min(small, key=lambda k: (areas[k].geom.area, k))
        a = areas[i]
        others = [j for j in range(len(areas)) if j != i]
        geoms = np.array([areas[j].geom for j in others], dtype=object)
        touching = [others[k] for k in np.nonzero(shapely.intersects(a.geom, geoms))[0]]
        lengths = _shared_lengths(a.geom, [areas[j].geom for j in touching])
        cands = [(float(lengths[k]), j) for k, j in enumerate(touching) if lengths[k] > 0.01]
        cands = [c for c in cands if areas[c[1]].family != "square"]
        if not cands:
            raise RuntimeError("sliver without neighbour")
        same = [c for c in cands if areas[c[1]].group == a.group]
        if a.family == "parcel":
            same = [c for c in cands if areas[c[1]].family == "parcel"]
        pool = same or cands
        _, target = max(pool, key=lambda c: (c[0], -c[1]))
        areas[target].geom = shapely.union_all([areas[target].geom, a.geom])
        del areas[i]


def _rings(geom: BaseGeometry) -> list[np.ndarray]:
    out = []
    for poly in shapely.get_parts(geom):
        out.append(shapely.get_coordinates(poly.exterior))
        out.extend(shapely.get_coordinates(r) for r in poly.interiors)
    return out


def _repair_tjunctions(areas: list[Area]) -> int:
    """Insert into every ring the vertices of other areas that lie on its segments."""
    all_pts = np.unique(np.concatenate([np.concatenate(_rings(a.geom)) for a in areas]), axis=0)
    tree = shapely.STRtree(shapely.points(all_pts))
    inserted = 0
    for a in areas:
        polys = []
        changed = False
        for poly in shapely.get_parts(a.geom):
            rings = [shapely.get_coordinates(poly.exterior)]
            rings += [shapely.get_coordinates(r) for r in poly.interiors]
            new_rings = []
            for ring in rings:
                segs = shapely.linestrings(np.stack([ring[:-1], ring[1:]], axis=1))
                seg_idx, pt_idx = tree.query(segs, predicate="dwithin", distance=1e-6)
                extra: dict[int, list[tuple[float, tuple[float, float]]]] = {}
                for s, p in zip(seg_idx.tolist(), pt_idx.tolist(), strict=True):
                    pt = all_pts[p]
                    if (pt == ring[s]).all() or (pt == ring[s + 1]).all():
                        continue
                    d = ring[s + 1] - ring[s]
                    t = float(np.dot(pt - ring[s], d) / np.dot(d, d))
                    extra.setdefault(s, []).append((t, (float(pt[0]), float(pt[1]))))
                if extra:
                    changed = True
                    out = []
                    for s in range(len(ring) - 1):
                        out.append(tuple(ring[s]))
                        for _t, pt in sorted(extra.get(s, [])):
                            out.append(pt)
                            inserted += 1
                    out.append(tuple(ring[-1]))
                    new_rings.append(np.array(out))
                else:
                    new_rings.append(ring)
            polys.append(Polygon(new_rings[0], new_rings[1:]))
        if changed:
            a.geom = polys[0] if len(polys) == 1 else MultiPolygon(polys)
    return inserted


# =============================================================================================
# kinds, names, districts, units
# =============================================================================================
def _seg_name_v(s: int) -> str:
    if s == 0:
        return f"{H_ROAD_NAMES[0]}以南段"
    if s == len(H_ROAD_NAMES):
        return f"{H_ROAD_NAMES[-1]}以北段"
    return f"{H_ROAD_NAMES[s - 1]}—{H_ROAD_NAMES[s]}段"


def _seg_name_h(s: int) -> str:
    if s == 0:
        return f"{V_ROAD_NAMES[0]}以西段"
    if s == len(V_ROAD_NAMES):
        return f"{V_ROAD_NAMES[-1]}以东段"
    return f"{V_ROAD_NAMES[s - 1]}—{V_ROAD_NAMES[s]}段"


def _part_suffixes(areas: list[Area], vertical: bool) -> list[str]:
    n = len(areas)
    if n == 1:
        return [""]
    if vertical:
        named = {2: ("北段", "南段"), 3: ("北段", "中段", "南段")}
    else:
        named = {2: ("西段", "东段"), 3: ("西段", "中段", "东段")}
    nums = "一二三四五六七八九"
    return list(named.get(n, tuple(f"{nums[k]}段" for k in range(n))))


class _Namer:
    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.used: set[str] = set()
        self.prefixes = [NAME_PREFIXES[i] for i in rng.permutation(len(NAME_PREFIXES))]
        self.orgs = [OLD_ORGS[i] for i in rng.permutation(len(OLD_ORGS))]
        self.alleys = [ALLEY_NAMES[i] for i in rng.permutation(len(ALLEY_NAMES))]

    def take(self, name: str) -> str:
        if name in self.used:
            raise RuntimeError(f"duplicate name {name}")
        self.used.add(name)
        return name

    def alley(self) -> str:
        return self.alleys.pop(0)

    def _prefix(self) -> str:
        p = self.prefixes.pop(0)
        self.prefixes.append(p)
        return p

    def compound(self, kind: str) -> str:
        for _ in range(500):
            if kind == "compound_managed":
                suffix = MANAGED_SUFFIXES[int(self.rng.integers(len(MANAGED_SUFFIXES)))]
                name = f"{self._prefix()}{suffix}"
            elif kind == "compound_unmanaged":
                if self.orgs and self.rng.random() < 0.45:
                    name = f"县{self.orgs.pop(0)}宿舍(无物业)"
                else:
                    name = f"{self._prefix()}小区(无物业)"
            else:
                suffix = ("新村", "里", "坊")[int(self.rng.integers(3))]
                name = f"{self._prefix()}{suffix}(开放式小区)"
            if name not in self.used:
                return self.take(name)
        raise RuntimeError("ran out of compound names")


def _param_centroids(areas: list[Area], warp: Warp) -> np.ndarray:
    cents = shapely.centroid([a.geom for a in areas])
    return warp.inverse(np.column_stack([shapely.get_x(cents), shapely.get_y(cents)]))


def _compass(ang: float) -> str:
    """E/N/S/W for an angle in degrees (counter-clockwise from east)."""
    if -45 <= ang < 45:
        return "E"
    if 45 <= ang < 135:
        return "N"
    if -135 <= ang < -45:
        return "S"
    return "W"


def assign_kinds(areas: list[Area], lay: Layout, warp: Warp, rng: np.random.Generator) -> None:
    namer = _Namer(rng)
    pc = _param_centroids(areas, warp)
    outline_ring = _to_utm_line(lay.lines[0], warp)

    # --- roads, park segments, alleys (named per group, parts get a positional suffix) ---
    by_group: dict[tuple, list[int]] = {}
    for i, a in enumerate(areas):
        by_group.setdefault(a.group, []).append(i)
    for group, idx in by_group.items():
        fam = group[0]
        if fam not in ("vroad", "hroad", "river", "valley", "halley"):
            continue
        vertical = fam in ("vroad", "valley")
        order = sorted(idx, key=lambda i: -pc[i, 1] if vertical else pc[i, 0])
        suffixes = _part_suffixes([areas[i] for i in order], vertical)
        if fam == "vroad":
            base = f"{V_ROAD_NAMES[group[1]]}({_seg_name_v(group[2])})"
            kind, owner = "main_road", ""
        elif fam == "hroad":
            base = f"{H_ROAD_NAMES[group[1]]}({_seg_name_h(group[2])})"
            kind, owner = "main_road", ""
        elif fam == "river":
            base = f"{RIVER_PARK}({_seg_name_h(group[1])})"
            kind, owner = "public_space", RIVER_OWNER
        else:
            base = namer.alley()
            kind, owner = "back_alley", ""
        for i, suf in zip(order, suffixes, strict=True):
            areas[i].kind, areas[i].owner = kind, owner
            areas[i].name = namer.take(base + suf)

    # --- fixed specials ---
    uv_named: list[int] = []
    for i, a in enumerate(areas):
        if a.family == "multi":
            a.kind, a.owner, a.name = "unit_yard", MULTI_YARD[1], namer.take(MULTI_YARD[0])
        elif a.family == "square":
            a.kind, a.owner, a.name = "public_space", HOLE_INNER[1], namer.take(HOLE_INNER[0])
        elif a.special == "hole":
            a.kind, a.name = "compound_unmanaged", namer.take(HOLE_OUTER)
        elif a.special == "park":
            a.kind, a.owner, a.name = "public_space", PARK[1], namer.take(PARK[0])
        elif a.special == "uv":
            a.kind, a.owner = "urban_village", TOWN_GOVERNMENT
            uv_named.append(i)
    for i in sorted(uv_named, key=lambda k: (math.atan2(pc[k, 1], pc[k, 0]), k)):
        ang = math.degrees(math.atan2(pc[i, 1], pc[i, 0]))
        name = UV_BY_DIRECTION[_compass(ang)]
        if name in namer.used:
            name = next(n for n in UV_EXTRA if n not in namer.used)
        areas[i].name = namer.take(name)

    # --- plain parcels: named yards, markets, squares, then compounds ---
    plain = [i for i, a in enumerate(areas) if a.family == "parcel" and a.special is None]
    touches = {i for i in plain if areas[i].geom.intersection(outline_ring).length > 1.0}

    def eligible(i: int, lo: float = 8000.0, hi: float = 120000.0) -> bool:
        return not areas[i].kind and i not in touches and lo <= areas[i].geom.area <= hi

    def nearest(target: tuple[float, float], hi: float = 120000.0) -> int:
        cands = [i for i in plain if eligible(i, hi=hi)]
        return min(cands, key=lambda i: (math.dist(pc[i], target), i))

    for name, owner, target in UNIT_YARDS:
        if target is not None:
            i = nearest(target)
            areas[i].kind, areas[i].owner, areas[i].name = "unit_yard", owner, namer.take(name)
    i = nearest(MALL[2], hi=260000.0)
    areas[i].kind, areas[i].owner, areas[i].name = "market", MALL[1], namer.take(MALL[0])
    for name, owner, target in (*MARKETS, *PUBLIC_SPACES):
        i = nearest(target)
        kind = "market" if (name, owner, target) in MARKETS else "public_space"
        areas[i].kind, areas[i].owner, areas[i].name = kind, owner, namer.take(name)
    for name, owner, target in UNIT_YARDS:
        if target is None:
            cands = [i for i in plain if eligible(i, 8000.0, 90000.0)]
            i = cands[int(rng.integers(len(cands)))]
            areas[i].kind, areas[i].owner, areas[i].name = "unit_yard", owner, namer.take(name)

    for i in plain:
        a = areas[i]
        if a.kind:
            continue
        d = math.hypot(pc[i, 0] / 2450.0, pc[i, 1] / 1950.0)
        if d < 0.4:
            probs = {"compound_unmanaged": 0.45, "open_compound": 0.3, "compound_managed": 0.25}
        elif d < 0.75:
            probs = {"compound_managed": 0.45, "compound_unmanaged": 0.25, "open_compound": 0.3}
        else:
            probs = {"compound_managed": 0.5, "open_compound": 0.3, "compound_unmanaged": 0.2}
        kinds = list(probs)
        a.kind = kinds[int(rng.choice(len(kinds), p=list(probs.values())))]
        a.name = namer.compound(a.kind)


def adjacency(areas: list[Area]) -> list[dict[int, float]]:
    geoms = np.array([a.geom for a in areas], dtype=object)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    adj: list[dict[int, float]] = [{} for _ in areas]
    mask = left < right
    left, right = left[mask], right[mask]
    lengths = shapely.length(
        shapely.intersection(shapely.boundary(geoms[left]), shapely.boundary(geoms[right]))
    )
    for i, j, ln in zip(left.tolist(), right.tolist(), lengths.tolist(), strict=True):
        if ln > 0.5:
            adj[i][j] = ln
            adj[j][i] = ln
    return adj


def assign_districts(areas: list[Area], adj: list[dict[int, float]], pc: np.ndarray) -> None:
    n = len(areas)
    # tie the two-part yard to the alley between its parts so the district stays contiguous
    group_of = list(range(n))
    multi = [i for i, a in enumerate(areas) if a.family == "multi"]
    for m in multi:
        parts = list(shapely.get_parts(areas[m].geom))
        for j in sorted(adj[m]):
            ok = all(_shared_lengths(p, [areas[j].geom])[0] > 0.5 for p in parts)
            if ok:
                group_of[j] = group_of[m]
                break
    members: dict[int, list[int]] = {}
    for i in range(n):
        members.setdefault(group_of[i], []).append(i)

    non_linear = [
        i
        for i, a in enumerate(areas)
        if a.kind not in ("main_road", "back_alley") and a.family != "river"
    ]
    seeds: list[int] = []
    for did, _name, _lead, target in DISTRICTS:
        if did == "D1":
            s = next(i for i, a in enumerate(areas) if a.name == UNIT_YARDS[0][0])
        elif did == "D7":
            s = next(i for i, a in enumerate(areas) if a.name == MALL[0])
        else:
            s = min(non_linear, key=lambda i, t=target: (math.dist(pc[i], t), i))
        seeds.append(group_of[s])
    if len(set(seeds)) != len(seeds):
        raise RuntimeError("district seeds collide")
    assign = [-1] * n
    totals = [0.0] * len(DISTRICTS)
    targets = [d[3] for d in DISTRICTS]
    for d, g in enumerate(seeds):
        for m in members[g]:
            assign[m] = d
            totals[d] += areas[m].geom.area
    while min(assign) < 0:
        for d in sorted(range(len(DISTRICTS)), key=lambda k: (totals[k], k)):
            frontier = {
                group_of[j] for i in range(n) if assign[i] == d for j in adj[i] if assign[j] < 0
            }
            if not frontier:
                continue
            g = min(
                frontier,
                key=lambda g: (min(math.dist(pc[m], targets[d]) for m in members[g]), g),
            )
            for m in members[g]:
                assign[m] = d
                totals[d] += areas[m].geom.area
            break
        else:
            raise RuntimeError("district growth stalled")
    for i, a in enumerate(areas):
        a.district = assign[i]
    for d in range(len(DISTRICTS)):
        union = shapely.union_all([a.geom for a in areas if a.district == d])
        if union.geom_type != "Polygon":
            raise RuntimeError(f"district {DISTRICTS[d][0]} is not contiguous")


def assign_owners(areas: list[Area], rng: np.random.Generator) -> dict[int, list[str]]:
    """Responsible units for roads, alleys and compounds; returns each district's unit pool."""
    pool = [u for u in RESPONSIBLE_UNITS if u not in SPECIAL_ROLE]
    pool = [pool[i] for i in rng.permutation(len(pool))]
    nd = len(DISTRICTS)
    pools: dict[int, list[str]] = {d: pool[d::nd] for d in range(nd)}
    for a in areas:
        if a.kind == "compound_managed" and not a.owner and rng.random() < 0.75:
            comps = [PROPERTY_COMPANIES[a.district % 4], PROPERTY_COMPANIES[(a.district + 1) % 4]]
            a.owner = comps[int(rng.integers(2))]
    for d in range(nd):
        idx = [i for i, a in enumerate(areas) if a.district == d and not areas[i].owner]
        if not idx:
            continue
        cents = shapely.centroid([areas[i].geom for i in idx])
        cx, cy = shapely.get_x(cents), shapely.get_y(cents)
        mx, my = float(np.mean(cx)), float(np.mean(cy))
        ang = np.arctan2(cy - my, cx - mx)
        order = [idx[k] for k in np.lexsort((np.array(idx), ang))]
        for k, chunk in enumerate(np.array_split(np.array(order), len(pools[d]))):
            for i in chunk.tolist():
                areas[i].owner = pools[d][k]
    return pools


# =============================================================================================
# coordinates
# =============================================================================================
def _round_ll(xy: np.ndarray, tr: Transformer) -> np.ndarray:
    lon, lat = tr.transform(xy[:, 0], xy[:, 1])
    return np.round(np.column_stack([lon, lat]), DECIMALS)


def to_lonlat(geom: BaseGeometry, tr: Transformer) -> BaseGeometry:
    g = shapely.transform(geom, lambda xy: _round_ll(xy, tr))
    g = shapely.remove_repeated_points(g, tolerance=0.0)
    return shapely.orient_polygons(g, exterior_cw=False)


def _geojson_geometry(geom: BaseGeometry) -> dict[str, Any]:
    def ring(r: Any) -> list[list[float]]:
        return shapely.get_coordinates(r).tolist()

    def poly(p: Polygon) -> list[list[list[float]]]:
        return [ring(p.exterior)] + [ring(r) for r in p.interiors]

    if geom.geom_type == "Polygon":
        return {"type": "Polygon", "coordinates": poly(geom)}
    if geom.geom_type == "MultiPolygon":
        return {"type": "MultiPolygon", "coordinates": [poly(p) for p in geom.geoms]}
    if geom.geom_type == "Point":
        return {"type": "Point", "coordinates": [geom.x, geom.y]}
    raise TypeError(geom.geom_type)


def _random_points_in(
    geom: BaseGeometry, n: int, rng: np.random.Generator, margin: float
) -> np.ndarray:
    """``n`` random points at least ``margin`` metres inside ``geom`` (UTM)."""
    inner = geom.buffer(-margin)
    if inner.is_empty:
        inner = geom
    shapely.prepare(inner)
    x0, y0, x1, y1 = inner.bounds
    out: list[np.ndarray] = []
    got = 0
    while got < n:
        k = max(64, 4 * (n - got))
        xs = rng.uniform(x0, x1, k)
        ys = rng.uniform(y0, y1, k)
        ok = shapely.contains_xy(inner, xs, ys)
        pts = np.column_stack([xs[ok], ys[ok]])
        out.append(pts)
        got += len(pts)
    return np.concatenate(out)[:n]


# =============================================================================================
# main entry
# =============================================================================================
@dataclass
class Unit:
    unit_id: str
    name: str
    kind: str
    contact: str
    phone: str
    lead_district: str | None
    point: tuple[float, float] | None = None


def _weighted_choice(rng: np.random.Generator, weights: dict[str, float]) -> str:
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=float)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def _make_units(rng: np.random.Generator) -> list[Unit]:
    used_names: set[str] = {name for r in ROUNDS for name in r[4]}  # not an inspector's name

    def person() -> str:
        while True:
            name = SURNAMES[int(rng.integers(len(SURNAMES)))] + GIVEN[int(rng.integers(len(GIVEN)))]
            if name not in used_names:
                used_names.add(name)
                return name

    units: list[Unit] = []
    entries: list[tuple[str, str, str | None]] = []
    for did, _n, lead, _t in DISTRICTS:
        entries.append((lead, "lead", did))
    entries += [(u, "responsible", None) for u in RESPONSIBLE_UNITS]
    entries += [(u, "special_group", None) for u in SPECIAL_GROUPS]
    entries += [(u, "company", None) for u in COMPANIES]
    phones: set[str] = set()
    for k, (name, kind, did) in enumerate(entries, start=1):
        while True:
            if kind == "company":
                phone = f"1380795{int(rng.integers(10000)):04d}"
            else:
                phone = f"0795-25{int(rng.integers(100000)):05d}"
            if phone not in phones:
                phones.add(phone)
                break
        units.append(Unit(f"U{k:02d}", name, kind, person(), phone, did))
    return units


def build(seed: int = SEED) -> dict[str, Any]:
    """Build the whole demo data set in memory."""
    rng = np.random.default_rng(seed)
    to_utm = Transformer.from_crs(4326, UTM_EPSG, always_xy=True)
    to_ll = Transformer.from_crs(UTM_EPSG, 4326, always_xy=True)
    x0, y0 = (round(v) for v in to_utm.transform(*CENTER_LONLAT))
    warp = Warp(float(x0), float(y0))

    lay = build_layout(rng)
    areas = build_areas(lay, warp)
    assign_kinds(areas, lay, warp, rng)
    adj = adjacency(areas)
    pc = _param_centroids(areas, warp)
    assign_districts(areas, adj, pc)
    assign_owners(areas, rng)

    # stable order and ids
    kind_rank = {k: i for i, k in enumerate(KINDS)}
    cents = shapely.centroid([a.geom for a in areas])
    cx, cy = shapely.get_x(cents), shapely.get_y(cents)
    order = sorted(
        range(len(areas)),
        key=lambda i: (areas[i].district, kind_rank[areas[i].kind], -round(cy[i]), round(cx[i]), i),
    )
    areas = [areas[i] for i in order]
    adj_old = adj
    remap = {old: new for new, old in enumerate(order)}
    adj = [{remap[j]: ln for j, ln in adj_old[old].items()} for old in order]
    for k, a in enumerate(areas, start=1):
        a.area_id = f"A{k:03d}"
        a.ll = to_lonlat(a.geom, to_ll)
    bad = [a.area_id for a in areas if not shapely.is_valid(a.ll)]
    if bad:
        raise RuntimeError(f"invalid geometry after rounding: {bad}")
    county = shapely.orient_polygons(shapely.union_all([a.ll for a in areas]), exterior_cw=False)
    if county.geom_type != "Polygon":
        raise RuntimeError("county is not a single polygon")

    units = _make_units(rng)
    by_name = {u.name: u for u in units}
    for a in areas:
        if a.owner not in by_name:
            raise RuntimeError(f"unknown owner {a.owner}")
    _place_units(units, areas, rng, to_ll)

    problems = _make_problems(areas, adj, county, rng, to_ll)
    _add_rectification_times(problems, np.random.default_rng(seed + RECTIFY_SEED_OFFSET))
    return {
        "areas": areas,
        "county": county,
        "units": units,
        "problems": problems,
        "by_name": by_name,
    }


def _place_units(
    units: list[Unit], areas: list[Area], rng: np.random.Generator, tr: Transformer
) -> None:
    did_index = {d[0]: k for k, d in enumerate(DISTRICTS)}
    gov = next(a for a in areas if a.name == UNIT_YARDS[0][0])
    compound_kinds = ("compound_managed", "compound_unmanaged", "open_compound")
    for u in units:
        own = [a for a in areas if a.owner == u.name]
        if u.kind == "lead":
            d = did_index[u.lead_district or ""]
            mine = [a for a in own if a.district == d and a.kind == "unit_yard"]
            if mine:
                target = mine[0]
            else:
                cands = [a for a in areas if a.district == d and a.kind in compound_kinds]
                target = cands[int(rng.integers(len(cands)))]
        elif u.kind == "special_group":
            target = gov
        elif own:
            yards = [a for a in own if a.kind == "unit_yard"]
            nonlinear = [a for a in own if a.kind not in ("main_road", "back_alley")]
            pick = yards or nonlinear or own
            target = pick[int(rng.integers(len(pick)))]
        elif u.name == "县城管大队":
            target = next(a for a in areas if a.owner == "县城管局" and a.kind == "unit_yard")
        else:
            cands = [a for a in areas if a.district == 0 and a.kind in compound_kinds]
            target = cands[int(rng.integers(len(cands)))]
        xy = _random_points_in(target.geom, 1, rng, margin=3.0)
        ll = _round_ll(xy, tr)[0]
        if not target.ll.contains(Point(ll)):
            raise RuntimeError(f"unit point of {u.name} left its area")
        u.point = (float(ll[0]), float(ll[1]))


def _make_problems(
    areas: list[Area],
    adj: list[dict[int, float]],
    county: Polygon,
    rng: np.random.Generator,
    tr: Transformer,
) -> list[dict[str, Any]]:
    n_areas = len(areas)
    near_market = {j for i, a in enumerate(areas) if a.kind == "market" for j in adj[i]}
    weights = np.array(
        [KIND_PROBLEM_WEIGHT[a.kind] * math.sqrt(a.geom.area / 1e4) for a in areas], dtype=float
    )
    weights /= weights.sum()
    lls = [a.ll for a in areas]
    tree = shapely.STRtree(np.array(lls, dtype=object))

    raw: list[dict[str, Any]] = []  # (round index, lon, lat, category, placement, kind)

    # ---- interior points, per round ----
    for r, (_name, _day, _ndays, n_int, _insp) in enumerate(ROUNDS):
        picks = rng.choice(n_areas, size=n_int, p=weights)
        counts = np.bincount(picks, minlength=n_areas)
        for i in range(n_areas):
            if counts[i] == 0:
                continue
            a = areas[i]
            xy = _random_points_in(a.geom, int(counts[i]), rng, margin=1.5)
            ll = _round_ll(xy, tr)
            cw = dict(CATEGORY_WEIGHTS[a.kind])
            if a.kind in ("main_road", "back_alley") and i in near_market:
                cw["market_tricycle_parking"] = 30
            for lon, lat in ll.tolist():
                raw.append(
                    {
                        "round": r,
                        "xy": (lon, lat),
                        "category": _weighted_choice(rng, cw),
                        "placement": "interior",
                        "place": a.kind,
                    }
                )

    # ---- points exactly on shared vertices ----
    vert_areas: dict[tuple[float, float], list[int]] = {}
    for i, g in enumerate(lls):
        for ring in _rings(g):
            for pt in set(map(tuple, ring[:-1].tolist())):
                vert_areas.setdefault(pt, []).append(i)
    shared = sorted(p for p, ids in vert_areas.items() if len(ids) >= 2)
    junctions = [p for p in shared if len(vert_areas[p]) >= 3]
    twos = [p for p in shared if len(vert_areas[p]) == 2]
    chosen_v = [junctions[k] for k in rng.choice(len(junctions), N_VERTEX // 2, replace=False)]
    chosen_v += [twos[k] for k in rng.choice(len(twos), N_VERTEX - len(chosen_v), replace=False)]
    for pt in sorted(chosen_v):
        raw.append({"xy": pt, "placement": "vertex"})

    # ---- points exactly on shared edges (integer lattice points of the 1e-7 grid) ----
    seg_areas: dict[tuple[tuple[int, int], tuple[int, int]], list[int]] = {}
    for i, g in enumerate(lls):
        for ring in _rings(g):
            ints = np.rint(ring * SCALE).astype(np.int64).tolist()
            for p, q in zip(ints[:-1], ints[1:], strict=True):
                key = (tuple(p), tuple(q)) if tuple(p) < tuple(q) else (tuple(q), tuple(p))
                seg_areas.setdefault(key, []).append(i)
    segs = sorted(k for k, ids in seg_areas.items() if len(ids) == 2)
    edge_pts: list[tuple[float, float]] = []
    used_pairs: set[tuple[int, int]] = set()
    for k in rng.permutation(len(segs)).tolist():
        (ax, ay), (bx, by) = segs[k]
        dx, dy = bx - ax, by - ay
        g = math.gcd(abs(dx), abs(dy))
        if g < 2:
            continue
        pair = tuple(sorted(seg_areas[segs[k]]))
        if pair in used_pairs:
            continue
        m = int(rng.integers(1, g))
        pt = ((ax + m * dx // g) / SCALE, (ay + m * dy // g) / SCALE)
        p = Point(pt)
        if all(lls[i].covers(p) for i in pair):
            edge_pts.append(pt)
            used_pairs.add(pair)
            if len(edge_pts) == N_EDGE:
                break
    if len(edge_pts) < N_EDGE:
        raise RuntimeError(f"only {len(edge_pts)} exact edge points found")
    for pt in sorted(edge_pts):
        raw.append({"xy": pt, "placement": "edge"})

    # ---- points a few hundred metres outside the county ----
    county_utm = shapely.union_all([a.geom for a in areas])
    x0, y0, x1, y1 = county_utm.bounds
    outside: list[tuple[float, float]] = []
    while len(outside) < N_OUTSIDE:
        xs = rng.uniform(x0 - 700, x1 + 700, 256)
        ys = rng.uniform(y0 - 700, y1 + 700, 256)
        d = shapely.distance(county_utm, shapely.points(xs, ys))
        ok = (d > 80) & (d < 600)
        for lon, lat in _round_ll(np.column_stack([xs[ok], ys[ok]]), tr).tolist():
            if not county.covers(Point(lon, lat)) and len(outside) < N_OUTSIDE:
                outside.append((lon, lat))
    for pt in outside:
        raw.append({"xy": pt, "placement": "outside"})

    # ---- attributes ----
    problems: list[dict[str, Any]] = []
    for seq, item in enumerate(raw):
        placement = item["placement"]
        if placement == "interior":
            r, cat, place = item["round"], item["category"], item["place"]
        else:
            r = 0 if rng.random() < 0.55 else 1
            if placement == "outside":
                cat, place = _weighted_choice(rng, OUTSIDE_CATEGORIES), "outside"
            else:
                cat, place = _weighted_choice(rng, BORDER_CATEGORIES), "border"
        rname, (yy, mm, dd), ndays, _n, inspectors = ROUNDS[r]
        start = datetime(yy, mm, dd, 8, 30, tzinfo=TZ)
        when = start + timedelta(days=int(rng.integers(ndays)), minutes=int(rng.integers(9 * 60)))
        values, probs = DEDUCTIONS.get(cat, DEDUCTIONS["default"])
        deduction = float(values[int(rng.choice(len(values), p=probs))])
        text = DESCRIPTIONS[cat][int(rng.integers(len(DESCRIPTIONS[cat])))]
        if rng.random() < 0.6:
            places = PLACES[place]
            text = places[int(rng.integers(len(places)))] + text
        problems.append(
            {
                "seq": seq,
                "xy": item["xy"],
                "round": rname,
                "category": cat,
                "description": text,
                "deduction": deduction,
                "reported_at": when,
                "status": _weighted_choice(rng, STATUS_WEIGHTS[rname]),
                "reporter": inspectors[int(rng.integers(len(inspectors)))],
                "placement": placement,
            }
        )
    problems.sort(key=lambda p: (p["reported_at"], p["seq"]))

    # sanity: interior points in exactly one area, border points in >= 2, outside in none
    pts = shapely.points([p["xy"] for p in problems])
    hit_pt, _hit_area = tree.query(pts, predicate="covered_by")
    hits = np.bincount(hit_pt, minlength=len(problems))
    for p, h in zip(problems, hits.tolist(), strict=True):
        want_ok = {
            "interior": h == 1,
            "vertex": h >= 2,
            "edge": h >= 2,
            "outside": h == 0,
        }[p["placement"]]
        if not want_ok:
            raise RuntimeError(f"{p['placement']} point {p['xy']} covered by {h} areas")
    return problems


def _add_rectification_times(problems: list[dict[str, Any]], rng: np.random.Generator) -> None:
    """When each closed (rectified or verified) problem was rectified: most within their
    category's deadline, :data:`LATE_SHARE` of them after it; None for open problems.

    Its own random stream, so adding it left every other demo value as it was."""
    hours = {c[0]: c[3] for c in CATEGORIES}
    for p in problems:
        p["rectified_at"] = None
        if p["status"] not in ("rectified", "verified"):
            continue
        limit = hours.get(p["category"]) or 72
        share = rng.uniform(1.05, 2.5) if rng.random() < LATE_SHARE else rng.uniform(0.1, 0.95)
        p["rectified_at"] = p["reported_at"] + timedelta(minutes=round(limit * 60 * share))


# =============================================================================================
# writing
# =============================================================================================
def _dump(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _write_text(path: Path, text: str) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


def _write_collection(path: Path, features: list[dict[str, Any]]) -> None:
    body = ",\n".join(_dump(f) for f in features)
    _write_text(path, '{"type":"FeatureCollection","features":[\n' + body + "\n]}\n")


def _write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def _feature(props: dict[str, Any], geom: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": geom}


def generate(out_dir: Path | str = DEFAULT_OUT, seed: int = SEED) -> dict[str, int]:
    """Build the demo county and write it to ``out_dir``; returns a few counts."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = build(seed)
    areas: list[Area] = data["areas"]
    units: list[Unit] = data["units"]
    by_name: dict[str, Unit] = data["by_name"]
    problems: list[dict[str, Any]] = data["problems"]

    _write_collection(
        out / "county.geojson",
        [_feature({"name": "X县城创卫范围"}, _geojson_geometry(data["county"]))],
    )
    _write_collection(
        out / "areas.geojson",
        [
            _feature(
                {
                    "area_id": a.area_id,
                    "name": a.name,
                    "kind": a.kind,
                    "district_id": DISTRICTS[a.district][0],
                    "responsible_unit_id": by_name[a.owner].unit_id,
                },
                _geojson_geometry(a.ll),
            )
            for a in areas
        ],
    )
    _write_collection(
        out / "units.geojson",
        [
            _feature(
                {
                    "unit_id": u.unit_id,
                    "name": u.name,
                    "kind": u.kind,
                    "contact": u.contact,
                    "phone": u.phone,
                    "lead_district_id": u.lead_district,
                },
                {"type": "Point", "coordinates": list(u.point or ())},
            )
            for u in units
        ],
    )
    _write_collection(
        out / "problems.geojson",
        [
            _feature(
                {
                    "problem_id": f"P{k:05d}",
                    "round": p["round"],
                    "category": p["category"],
                    "description": p["description"],
                    "deduction": p["deduction"],
                    "reported_at": p["reported_at"].isoformat(),
                    "status": p["status"],
                    "rectified_at": (
                        p["rectified_at"].isoformat() if p["rectified_at"] is not None else None
                    ),
                    "reporter": p["reporter"],
                    "placement": p["placement"],
                },
                {"type": "Point", "coordinates": list(p["xy"])},
            )
            for k, p in enumerate(problems, start=1)
        ],
    )
    _write_csv(
        out / "districts.csv",
        ["district_id", "name", "lead_unit_id"],
        [[did, name, by_name[lead].unit_id] for did, name, lead, _t in DISTRICTS],
    )
    _write_csv(
        out / "categories.csv",
        ["category", "name_zh", "name_en", "deadline_hours"],
        [list(c) for c in CATEGORIES],
    )
    _write_csv(
        out / "rules.csv",
        ["rule_id", "priority", "category", "area_kind", "unit_id", "note"],
        [
            [rid, prio, cat, kind, by_name[u].unit_id, note]
            for rid, prio, cat, kind, u, note in RULES
        ],
    )
    counts = {"areas": len(areas), "units": len(units), "problems": len(problems)}
    for placement in ("interior", "vertex", "edge", "outside"):
        counts[placement] = sum(p["placement"] == placement for p in problems)
    return counts
