"""The demo's 3-level category tree: department → domain → symptom, bilingual.

Codes are dotted paths (``hvac.chiller.not_cooling``) so they are unique per tenant
and readable in exports. Work orders always use a level-3 (symptom) category.
:func:`build_categories` turns the tree into rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from api.categories.models import Category
from api.db import new_id
from api.demo.context import DemoContext

Names = tuple[str, str, str]  # (code segment, name, name_en)


@dataclass(frozen=True)
class Node:
    code: str
    name: str
    name_en: str
    children: tuple[Node, ...] = ()


def _tree(dept: Names, *domains: tuple[Names, tuple[Names, ...]]) -> Node:
    def child(parent: str, names: Names, leaves: tuple[Names, ...] = ()) -> Node:
        code = f"{parent}.{names[0]}"
        return Node(code, names[1], names[2], tuple(child(code, leaf) for leaf in leaves))

    return Node(dept[0], dept[1], dept[2], tuple(child(dept[0], d, ls) for d, ls in domains))


TAXONOMY: tuple[Node, ...] = (
    _tree(
        ("hvac", "暖通空调", "HVAC"),
        (
            ("chiller", "冷水机组", "Chillers"),
            (
                ("not_cooling", "不制冷", "Not cooling"),
                ("high_pressure", "高压报警", "High-pressure alarm"),
                ("noise", "异响振动", "Abnormal noise or vibration"),
                ("maintenance", "定期保养", "Scheduled maintenance"),
            ),
        ),
        (
            ("ahu", "空调箱", "Air handling units"),
            (
                ("no_airflow", "不出风", "No airflow"),
                ("leak", "冷凝水泄漏", "Condensate leak"),
                ("filter", "过滤网更换", "Filter replacement"),
            ),
        ),
        (
            ("tower", "冷却塔", "Cooling towers"),
            (("fan", "风机故障", "Fan failure"), ("water", "水质异常", "Water quality problem")),
        ),
        (
            ("vrf", "多联机与精密空调", "VRF and precision AC"),
            (
                ("not_cooling", "不制冷", "Not cooling"),
                ("error_code", "故障代码", "Error code displayed"),
                ("maintenance", "定期保养", "Scheduled maintenance"),
            ),
        ),
        (
            ("coldroom", "冷库", "Cold rooms"),
            (
                ("temp_high", "库温过高", "Temperature too high"),
                ("frost", "蒸发器结霜", "Evaporator icing"),
            ),
        ),
    ),
    _tree(
        ("elec", "电气", "Electrical"),
        (
            ("power", "供配电", "Power distribution"),
            (
                ("trip", "开关跳闸", "Breaker tripped"),
                ("outage", "停电", "Power outage"),
                ("hotspot", "红外测温异常", "Thermal hotspot"),
            ),
        ),
        (
            ("generator", "发电机", "Generators"),
            (("no_start", "无法启动", "Fails to start"), ("test_run", "带载试机", "Load test")),
        ),
        (
            ("ups", "UPS", "UPS"),
            (("battery", "电池告警", "Battery alarm"), ("bypass", "旁路运行", "Running on bypass")),
        ),
        (
            ("lighting", "照明", "Lighting"),
            (
                ("lights_out", "灯具不亮", "Lights out"),
                ("emergency", "应急照明故障", "Emergency lighting fault"),
            ),
        ),
    ),
    _tree(
        ("lift", "电梯", "Elevators and escalators"),
        (
            ("passenger", "乘客电梯", "Passenger elevators"),
            (
                ("trapped", "困人", "Passenger trapped"),
                ("out_of_service", "停梯", "Out of service"),
                ("levelling", "平层不准", "Levelling fault"),
                ("inspection", "年检配合", "Annual inspection support"),
            ),
        ),
        (
            ("escalator", "自动扶梯", "Escalators"),
            (("stop", "异常停梯", "Unexpected stop"), ("handrail", "扶手带异常", "Handrail fault")),
        ),
    ),
    _tree(
        ("fire", "消防与给排水", "Fire protection and plumbing"),
        (
            ("alarm", "火灾报警系统", "Fire alarm system"),
            (("panel_fault", "主机故障", "Panel fault"), ("false_alarm", "误报", "False alarm")),
        ),
        (
            ("pump", "消防水泵", "Fire pumps"),
            (
                ("no_start", "无法启动", "Fails to start"),
                ("low_pressure", "管网压力不足", "Low main pressure"),
            ),
        ),
        (
            ("plumbing", "给排水", "Water supply and drainage"),
            (
                ("leak", "漏水", "Water leak"),
                ("blockage", "管道堵塞", "Blocked drain"),
                ("pump_fault", "水泵故障", "Pump fault"),
            ),
        ),
    ),
    _tree(
        ("sec", "弱电与安防", "Low-voltage and security"),
        (
            ("access", "门禁", "Access control"),
            (
                ("card", "刷卡无反应", "Card not recognised"),
                ("offline", "控制器离线", "Controller offline"),
            ),
        ),
        (
            ("network", "网络", "Network"),
            (("down", "网络中断", "Network down"), ("switch_alarm", "交换机告警", "Switch alarm")),
        ),
    ),
)

# Symptoms that are always urgent whatever the customer says.
URGENT_LEAVES = frozenset(
    {
        "lift.passenger.trapped",
        "elec.power.outage",
        "hvac.coldroom.temp_high",
        "fire.pump.no_start",
        "sec.network.down",
    }
)


def build_categories(ctx: DemoContext) -> dict[str, Category]:
    """Add the tree (parents first) and return every category by code."""
    by_code: dict[str, Category] = {}

    def add(node: Node, parent: Category | None, order: int) -> None:
        category = ctx.add(
            Category(
                id=new_id(),
                tenant_id=ctx.tenant_id,
                parent_id=parent.id if parent else None,
                level=parent.level + 1 if parent else 1,
                code=node.code,
                name=node.name,
                name_en=node.name_en,
                sort_order=order,
            )
        )
        by_code[node.code] = category
        for position, child in enumerate(node.children):
            add(child, category, position)

    for position, department in enumerate(TAXONOMY):
        add(department, None, position)
    return by_code
