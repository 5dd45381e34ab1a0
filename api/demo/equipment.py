"""The demo's equipment catalogue: what a site of each kind has, who makes it, who fixes it.

Each equipment type names the level-2 category its faults belong to (so a work order
on a chiller gets a chiller symptom) and the skill a technician needs for it.
Manufacturers are written "中文名 Brand", as they appear on Chinese nameplates.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EquipmentType:
    key: str
    name: str
    name_en: str
    domain: str  # level-2 category code
    serial_prefix: str
    makes: tuple[tuple[str, tuple[str, ...]], ...]  # (manufacturer, models)


EQUIPMENT: dict[str, EquipmentType] = {
    e.key: e
    for e in (
        EquipmentType(
            "chiller",
            "冷水机组",
            "Chiller",
            "hvac.chiller",
            "CH",
            (
                ("开利 Carrier", ("30XW-1262", "19XR-5050")),
                ("约克 York", ("YK-EP1800", "YVAA-0360")),
                ("特灵 Trane", ("CVHE-500", "RTHD-C2")),
                ("麦克维尔 McQuay", ("WSC-087",)),
            ),
        ),
        EquipmentType(
            "ahu",
            "组合式空调机组",
            "Air Handling Unit",
            "hvac.ahu",
            "AH",
            (
                ("约克 York", ("YMA-20",)),
                ("开利 Carrier", ("39G-1320",)),
                ("格力 Gree", ("ZK-25",)),
            ),
        ),
        EquipmentType(
            "cooling_tower",
            "冷却塔",
            "Cooling Tower",
            "hvac.tower",
            "CT",
            (("良机 Liangchi", ("LRC-H-300",)), ("马利 Marley", ("NC-8402",))),
        ),
        EquipmentType(
            "vrf",
            "多联机室外机",
            "VRF Outdoor Unit",
            "hvac.vrf",
            "VR",
            (
                ("大金 Daikin", ("RXYQ20BY", "RXYQ16BY")),
                ("格力 Gree", ("GMV-X560WM",)),
                ("美的 Midea", ("MDV-V6-504",)),
            ),
        ),
        EquipmentType(
            "crac",
            "精密空调",
            "Precision Air Conditioner",
            "hvac.vrf",
            "PA",
            (("维谛 Vertiv", ("Liebert PEX4 P3050",)), ("佳力图 Canatal", ("CS-M0400",))),
        ),
        EquipmentType(
            "cold_room",
            "冷库机组",
            "Cold Room Condensing Unit",
            "hvac.coldroom",
            "CR",
            (("比泽尔 Bitzer", ("4FES-5Y",)), ("谷轮 Copeland", ("ZB45KQE",))),
        ),
        EquipmentType(
            "switchgear",
            "低压配电柜",
            "LV Switchgear",
            "elec.power",
            "SG",
            (("施耐德 Schneider", ("Okken",)), ("ABB", ("MNS 3.0",)), ("正泰 CHINT", ("GCS-1",))),
        ),
        EquipmentType(
            "transformer",
            "干式变压器",
            "Dry-type Transformer",
            "elec.power",
            "TR",
            (("金盘 Jinpan", ("SCB13-1250/10",)), ("ABB", ("RESIBLOC 1600kVA",))),
        ),
        EquipmentType(
            "generator",
            "柴油发电机组",
            "Diesel Generator",
            "elec.generator",
            "GE",
            (
                ("康明斯 Cummins", ("C550D5",)),
                ("卡特彼勒 Caterpillar", ("C18 600kVA",)),
                ("玉柴 Yuchai", ("YC6T550L",)),
            ),
        ),
        EquipmentType(
            "ups",
            "UPS不间断电源",
            "UPS",
            "elec.ups",
            "UP",
            (
                ("施耐德 Schneider", ("Galaxy VS 100kVA",)),
                ("华为 Huawei", ("UPS5000-E-200K",)),
                ("伊顿 Eaton", ("93PM-80",)),
            ),
        ),
        EquipmentType(
            "elevator",
            "乘客电梯",
            "Passenger Elevator",
            "lift.passenger",
            "EL",
            (
                ("三菱 Mitsubishi", ("LEHY-III",)),
                ("奥的斯 Otis", ("Gen2",)),
                ("迅达 Schindler", ("5500",)),
                ("通力 KONE", ("MonoSpace 500",)),
                ("日立 Hitachi", ("HGP",)),
            ),
        ),
        EquipmentType(
            "escalator",
            "自动扶梯",
            "Escalator",
            "lift.escalator",
            "ES",
            (
                ("奥的斯 Otis", ("506NCE",)),
                ("迅达 Schindler", ("9300",)),
                ("通力 KONE", ("TravelMaster 110",)),
            ),
        ),
        EquipmentType(
            "fire_pump",
            "消防泵",
            "Fire Pump",
            "fire.pump",
            "FP",
            (("连成 Liancheng", ("XBD8/40-150",)), ("凯泉 Kaiquan", ("XBD10/30-KQL",))),
        ),
        EquipmentType(
            "fire_panel",
            "火灾报警控制器",
            "Fire Alarm Control Panel",
            "fire.alarm",
            "FA",
            (("海湾 GST", ("JB-QB-GST200",)), ("西门子 Siemens", ("FC2060",))),
        ),
        EquipmentType(
            "water_pump",
            "生活给水泵组",
            "Domestic Water Booster Set",
            "fire.plumbing",
            "WP",
            (("格兰富 Grundfos", ("Hydro MPC-E 3CR15",)), ("威乐 Wilo", ("COR-3MVI1608",))),
        ),
        EquipmentType(
            "access",
            "门禁控制器",
            "Access Controller",
            "sec.access",
            "AC",
            (("海康威视 Hikvision", ("DS-K2604T",)), ("大华 Dahua", ("ASC3204B",))),
        ),
        EquipmentType(
            "switch",
            "核心交换机",
            "Core Network Switch",
            "sec.network",
            "NS",
            (("华为 Huawei", ("S5735-L48T4X",)), ("华三 H3C", ("S6520X-30QC",))),
        ),
    )
}

# What a site of each customer kind is likely to have, most typical first.
KIND_EQUIPMENT: dict[str, tuple[str, ...]] = {
    "office": (
        "chiller", "elevator", "ahu", "cooling_tower", "fire_pump", "fire_panel",
        "switchgear", "generator", "access", "water_pump",
    ),
    "mall": (
        "escalator", "elevator", "chiller", "ahu", "fire_panel", "vrf", "switchgear",
        "fire_pump",
    ),
    "hotel": ("chiller", "elevator", "ahu", "water_pump", "generator", "vrf", "fire_panel"),
    "hospital": (
        "chiller", "elevator", "ahu", "generator", "ups", "fire_pump", "water_pump", "crac",
    ),
    "school": ("vrf", "elevator", "fire_panel", "switchgear", "access", "water_pump", "switch"),
    "factory": (
        "switchgear", "transformer", "generator", "ahu", "fire_pump", "vrf", "cold_room",
    ),
    "logistics": ("cold_room", "switchgear", "generator", "fire_pump", "access"),
    "datacenter": ("ups", "crac", "generator", "switchgear", "chiller", "switch", "transformer"),
    "residential": ("elevator", "water_pump", "fire_pump", "fire_panel", "access"),
}  # fmt: skip

# The skill a level-2 category (domain) needs.
DOMAIN_SKILLS: dict[str, str] = {
    "hvac.chiller": "hvac",
    "hvac.ahu": "hvac",
    "hvac.tower": "hvac",
    "hvac.vrf": "hvac",
    "hvac.coldroom": "refrigeration",
    "elec.power": "electrical",
    "elec.generator": "generator",
    "elec.ups": "electrical",
    "elec.lighting": "electrical",
    "lift.passenger": "elevator",
    "lift.escalator": "elevator",
    "fire.alarm": "fire_safety",
    "fire.pump": "fire_safety",
    "fire.plumbing": "plumbing",
    "sec.access": "access_control",
    "sec.network": "it_network",
}
