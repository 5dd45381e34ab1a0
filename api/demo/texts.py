"""Chinese text for demo work orders: titles, descriptions, resolutions, reasons, notes.

Templates are filled with ``str.format``: ``{asset}`` (the asset's name), ``{floor}``,
``{n}``, ``{temp}`` (chilled water °C), ``{ctemp}`` (cold room °C), ``{hot}`` (busbar
°C), ``{pct}`` and ``{code}``. A template without ``{asset}`` also suits an order
that names no asset.
"""

from __future__ import annotations

# leaf code → (title, description, resolution)
LEAF_TEXTS: dict[str, tuple[str, str, str]] = {
    "hvac.chiller.not_cooling": (
        "{asset}不制冷，出水温度{temp}℃",
        "冷冻水出水温度持续在{temp}℃左右（设定值7℃），{floor}层以上租户反映空调不凉，请尽快派人检查。",
        "冷凝器结垢、冷媒不足；清洗冷凝器铜管并补充R134a冷媒约{n}0kg，出水温度稳定在7℃。",
    ),
    "hvac.chiller.high_pressure": (
        "{asset}高压报警停机",
        "机组显示高压保护报警并停机，复位后运行约半小时再次报警。",
        "冷却塔风机皮带断裂导致冷却水温过高；更换皮带并清理填料，机组复位后运行正常。",
    ),
    "hvac.chiller.noise": (
        "{asset}运行异响，振动明显",
        "机房值班人员反映{asset}运行时有明显金属撞击声，振动比平时大。",
        "压缩机减震垫老化，更换4只减震垫并紧固地脚螺栓，振动值恢复正常。",
    ),
    "hvac.chiller.maintenance": (
        "{asset}季度保养",
        "按维保合同执行季度保养：检查油位、电气接线、安全保护装置，记录运行参数。",
        "完成季度保养：更换油过滤器，紧固电气端子，安全保护装置测试正常，参数已记录。",
    ),
    "hvac.ahu.no_airflow": (
        "{floor}层{asset}不出风",
        "{floor}层办公区出风口无风，机组控制面板显示运行中。",
        "风机皮带磨损打滑，更换同型号皮带并调整张紧度，风量恢复正常。",
    ),
    "hvac.ahu.leak": (
        "{asset}冷凝水滴漏到吊顶",
        "{floor}层吊顶有水渍，怀疑{asset}冷凝水盘溢流。",
        "冷凝水排水管堵塞，疏通排水管并清洗接水盘，加装防堵过滤网。",
    ),
    "hvac.ahu.filter": (
        "{asset}过滤网更换",
        "楼宇自控系统显示{asset}过滤网压差报警，需要更换。",
        "更换初效、中效过滤网各一套，压差恢复正常。",
    ),
    "hvac.tower.fan": (
        "{asset}风机不转",
        "冷却塔风机停止运转，冷却水温度持续上升。",
        "风机电机绕组烧毁，更换同规格7.5kW电机，试运行正常。",
    ),
    "hvac.tower.water": (
        "{asset}水质浑浊有藻类",
        "冷却水浑浊，集水盘内有明显藻类。",
        "排污换水，投加杀菌灭藻剂，清洗布水器；建议每月做一次水质检测。",
    ),
    "hvac.vrf.not_cooling": (
        "{asset}所带{floor}层空调不制冷",
        "{floor}层会议室多台室内机吹热风，室外机{asset}显示运行中。",
        "冷媒泄漏，查漏后补焊铜管接头并补充R410A冷媒{n}kg，制冷恢复。",
    ),
    "hvac.vrf.error_code": (
        "{asset}报故障代码{code}",
        "室外机显示故障代码{code}，部分室内机停机。",
        "通讯线接头松动导致通讯故障，重新压接并紧固，故障代码消除。",
    ),
    "hvac.vrf.maintenance": (
        "{asset}年度保养",
        "年度保养：清洗室外机翅片，检查冷媒压力和电气连接。",
        "完成年度保养，翅片已清洗，冷媒压力正常，电气连接已紧固。",
    ),
    "hvac.coldroom.temp_high": (
        "{asset}库温升至{ctemp}℃",
        "冷藏库温度从2℃升至{ctemp}℃，库内有生鲜货物，请紧急处理！",
        "压缩机热保护动作；清洗冷凝器并更换启动电容，库温2小时内回落至2℃。",
    ),
    "hvac.coldroom.frost": (
        "{asset}蒸发器结霜严重",
        "蒸发器结冰严重，库温下降缓慢。",
        "化霜加热管损坏，更换加热管并将化霜周期调整为每6小时一次。",
    ),
    "elec.power.trip": (
        "{asset}出线开关跳闸",
        "{floor}层配电回路跳闸，部分区域停电，合闸后再次跳闸。",
        "{floor}层一台饮水机漏电；隔离故障设备后恢复送电，绝缘测试合格。",
    ),
    "elec.power.outage": (
        "{floor}层整层停电",
        "{floor}层整层停电，楼层配电箱总开关未跳闸，请立即派电工。",
        "上级配电柜进线端子烧蚀，更换端子并紧固后恢复供电。",
    ),
    "elec.power.hotspot": (
        "{asset}红外测温异常",
        "季度红外巡检发现{asset}母排连接处温度达{hot}℃。",
        "停电后紧固母排连接螺栓，更换氧化垫片，复测温度正常。",
    ),
    "elec.generator.no_start": (
        "{asset}无法启动",
        "每周空载试机时{asset}无法启动，控制屏显示蓄电池电压低。",
        "启动蓄电池老化，更换两块24V蓄电池，试机启动正常。",
    ),
    "elec.generator.test_run": (
        "{asset}月度带载试机",
        "按计划进行月度带载试机30分钟，记录电压、频率、油压和水温。",
        "带载试机30分钟，各项参数正常，燃油余量{pct}%。",
    ),
    "elec.ups.battery": (
        "{asset}电池告警",
        "{asset}显示电池组故障告警，后备时间不足。",
        "电池内阻测试发现{n}节电池失效，已更换；放电测试后备时间恢复正常。",
    ),
    "elec.ups.bypass": (
        "{asset}转旁路运行",
        "{asset}自动切换到旁路供电，面板持续告警。",
        "整流模块风扇故障导致过温，更换风扇后切回逆变供电。",
    ),
    "elec.lighting.lights_out": (
        "{floor}层走廊灯具不亮",
        "{floor}层东侧走廊约{n}盏灯不亮。",
        "更换损坏的LED灯管和一只驱动电源，照明恢复。",
    ),
    "elec.lighting.emergency": (
        "{floor}层应急照明故障",
        "月度消防检查发现{floor}层应急照明灯不亮。",
        "更换应急灯蓄电池{n}只，模拟断电测试合格。",
    ),
    "lift.passenger.trapped": (
        "{asset}困人，停在{floor}层附近",
        "{asset}困人，轿厢停在{floor}层附近，被困{n}人，已安抚乘客，请立即派人！",
        "到场后盘车放人，乘客安全撤离；门锁回路接触不良，清洁调整门锁触点后试运行正常。",
    ),
    "lift.passenger.out_of_service": (
        "{asset}故障停梯",
        "{asset}无法召唤，显示故障停梯。",
        "变频器报过流故障，编码器接线松动，重新紧固后运行正常。",
    ),
    "lift.passenger.levelling": (
        "{asset}平层不准",
        "{asset}在{floor}层停靠时轿厢与层站高差约2厘米，有绊倒风险。",
        "调整平层感应器位置并重新学习井道，平层误差小于5毫米。",
    ),
    "lift.passenger.inspection": (
        "{asset}年度检验配合",
        "特种设备检验机构年度检验，需维保人员现场配合。",
        "配合完成年度检验，结论合格，检验报告已归档。",
    ),
    "lift.escalator.stop": (
        "{asset}运行中急停",
        "{asset}运行中突然停止，显示梯级下陷保护动作。",
        "梯级滚轮磨损，更换{n}个梯级滚轮，安全保护装置测试正常。",
    ),
    "lift.escalator.handrail": (
        "{asset}扶手带速度不同步",
        "乘客反映{asset}扶手带比梯级慢。",
        "调整扶手带张紧装置并更换磨损的摩擦轮，速度已同步。",
    ),
    "fire.alarm.panel_fault": (
        "{asset}显示主电故障",
        "消防控制室报告{asset}主电故障报警。",
        "主电保险丝熔断，更换保险丝并检查回路，主机恢复正常。",
    ),
    "fire.alarm.false_alarm": (
        "{floor}层烟感频繁误报",
        "{floor}层茶水间烟感一周内误报{n}次。",
        "烟感探测器积尘，更换探测器并清洁周边探测器，联动测试正常。",
    ),
    "fire.pump.no_start": (
        "{asset}无法自动启动",
        "月度消防巡检发现{asset}自动启泵失败。",
        "控制柜中间继电器损坏，更换后手动、自动启泵均正常。",
    ),
    "fire.pump.low_pressure": (
        "消防管网压力不足，{asset}频繁启动",
        "消防管网压力持续低于设计值，稳压泵频繁启动。",
        "{floor}层末端试水阀内漏，更换阀门后管网压力稳定。",
    ),
    "fire.plumbing.leak": (
        "{floor}层卫生间漏水",
        "{floor}层男卫生间吊顶滴水，楼下有水渍。",
        "给水管接头老化渗漏，更换接头及一段PPR管，试压无渗漏。",
    ),
    "fire.plumbing.blockage": (
        "{floor}层排水管堵塞",
        "{floor}层茶水间地漏返水。",
        "用管道疏通机疏通排水横管并清理杂物，排水恢复畅通。",
    ),
    "fire.plumbing.pump_fault": (
        "{asset}频繁启停",
        "{asset}频繁启停，高区水压不稳。",
        "压力罐气囊破损，更换气囊并重新设定压力，运行稳定。",
    ),
    "sec.access.card": (
        "{asset}刷卡无反应",
        "员工刷卡无反应，大门无法开启。",
        "读卡器与控制器之间通讯线断开，重新接线，刷卡开门正常。",
    ),
    "sec.access.offline": (
        "{asset}离线",
        "门禁管理平台显示{asset}离线。",
        "控制器电源适配器损坏，更换后上线并同步权限数据。",
    ),
    "sec.network.down": (
        "{floor}层网络中断",
        "{floor}层办公区全部断网，无线和有线均无法连接。",
        "楼层接入交换机电源故障，更换电源模块后网络恢复。",
    ),
    "sec.network.switch_alarm": (
        "{asset}端口告警",
        "网管平台显示{asset}多个端口频繁up/down。",
        "光模块老化，更换{n}个光模块并清洁光纤跳线，告警消除。",
    ),
}

ERROR_CODES = ("E4", "U4", "A6", "J3", "E9", "F3")

DECLINE_REASONS = (
    "正在闵行另一现场抢修，无法按时到达",
    "今天下午请假，请改派",
    "该品牌设备不熟悉，建议派专业组",
)
PAUSE_REASONS = (
    "等待备件到货",
    "需业主安排停机配合",
    "需要厂家技术支持",
    "客户要求改到夜间施工",
)
CANCEL_REASONS = (
    "客户已自行解决",
    "重复报修",
    "客户取消预约",
    "设备已列入更换计划，不再维修",
)
CUSTOMER_CANCEL_REASONS = ("问题已自行恢复，不需要上门了", "已由大楼工程部处理")

# Notes: (body, visibility). Customer-visible ones are written for the customer to read.
CUSTOMER_NOTES = (
    "请工程师到达后先到一楼物业服务中心登记。",
    "今天下午3点后方便上门，谢谢。",
    "现场联系人电话已更新，请联系值班工程师。",
)
DISPATCH_NOTES = (
    "客户要求工程师到场前半小时电话联系。",
    "已与物业确认停车位：B2访客车位。",
    "该设备上月已维修过同类问题，请重点检查。",
    "VIP客户，请优先处理并及时反馈进度。",
)
ON_THE_WAY_NOTES = ("工程师已出发，预计{n}0分钟后到达。", "工程师已在路上，到达前会电话联系您。")
PAUSE_NOTES = (
    "备件已下单，预计两天内到货。",
    "已联系厂家售后，等待技术支持回复。",
    "已拍照留存，待客户确认更换报价。",
)
DONE_NOTES = ("维修已完成，请贵方工程部验收。", "设备已恢复运行，建议下次保养时复查。")
