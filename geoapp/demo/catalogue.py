"""The demo's problem catalogue: categories and their deadlines, the assignment rules, how
often each category turns up in each kind of area, on borders and outside the county,
deductions, descriptions and places, the inspection rounds and the statuses' shares.
"""

from __future__ import annotations

from datetime import timedelta, timezone

from geoapp.demo.county import CLEANING_COMPANY, TOWN_GOVERNMENT

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
