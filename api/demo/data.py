"""Static pools for the demo: Shanghai districts and roads, people's names, customers.

Everything here is plain data. Coordinates are approximate district centres with a
jitter radius small enough to stay inside the district; road names are real roads of
that district so addresses look right on a map. Company names are invented.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class District:
    name: str
    name_en: str
    lat: float
    lon: float
    jitter: float  # degrees; keeps random points inside the district
    roads: tuple[tuple[str, str], ...]


DISTRICTS: dict[str, District] = {
    d.name: d
    for d in (
        District(
            "浦东新区",
            "Pudong New Area",
            31.2200,
            121.5400,
            0.035,
            (
                ("世纪大道", "Century Avenue"),
                ("张杨路", "Zhangyang Road"),
                ("浦东南路", "South Pudong Road"),
                ("银城中路", "Middle Yincheng Road"),
                ("张江路", "Zhangjiang Road"),
                ("碧波路", "Bibo Road"),
                ("杨高中路", "Middle Yanggao Road"),
                ("金桥路", "Jinqiao Road"),
            ),
        ),
        District(
            "黄浦区",
            "Huangpu District",
            31.2317,
            121.4846,
            0.010,
            (
                ("南京东路", "East Nanjing Road"),
                ("中山东一路", "East Zhongshan No.1 Road"),
                ("淮海中路", "Middle Huaihai Road"),
                ("西藏中路", "Middle Xizang Road"),
                ("河南中路", "Middle Henan Road"),
            ),
        ),
        District(
            "静安区",
            "Jing'an District",
            31.2400,
            121.4550,
            0.015,
            (
                ("南京西路", "West Nanjing Road"),
                ("延安中路", "Middle Yan'an Road"),
                ("万航渡路", "Wanhangdu Road"),
                ("北京西路", "West Beijing Road"),
                ("大宁路", "Daning Road"),
            ),
        ),
        District(
            "徐汇区",
            "Xuhui District",
            31.1885,
            121.4365,
            0.015,
            (
                ("漕溪北路", "North Caoxi Road"),
                ("肇嘉浜路", "Zhaojiabang Road"),
                ("虹桥路", "Hongqiao Road"),
                ("宜山路", "Yishan Road"),
                ("田林路", "Tianlin Road"),
                ("龙华中路", "Middle Longhua Road"),
            ),
        ),
        District(
            "长宁区",
            "Changning District",
            31.2150,
            121.4100,
            0.012,
            (
                ("长宁路", "Changning Road"),
                ("延安西路", "West Yan'an Road"),
                ("天山路", "Tianshan Road"),
                ("仙霞路", "Xianxia Road"),
                ("遵义路", "Zunyi Road"),
            ),
        ),
        District(
            "普陀区",
            "Putuo District",
            31.2490,
            121.4000,
            0.012,
            (
                ("长寿路", "Changshou Road"),
                ("中山北路", "North Zhongshan Road"),
                ("真北路", "Zhenbei Road"),
                ("武宁路", "Wuning Road"),
                ("大渡河路", "Daduhe Road"),
            ),
        ),
        District(
            "虹口区",
            "Hongkou District",
            31.2700,
            121.4900,
            0.010,
            (
                ("四川北路", "North Sichuan Road"),
                ("东大名路", "East Daming Road"),
                ("曲阳路", "Quyang Road"),
                ("大连路", "Dalian Road"),
                ("西江湾路", "West Jiangwan Road"),
            ),
        ),
        District(
            "杨浦区",
            "Yangpu District",
            31.2800,
            121.5200,
            0.015,
            (
                ("淞沪路", "Songhu Road"),
                ("国定路", "Guoding Road"),
                ("黄兴路", "Huangxing Road"),
                ("杨树浦路", "Yangshupu Road"),
                ("控江路", "Kongjiang Road"),
            ),
        ),
        District(
            "闵行区",
            "Minhang District",
            31.1120,
            121.3820,
            0.030,
            (
                ("沪闵路", "Humin Road"),
                ("七莘路", "Qixin Road"),
                ("莘松路", "Xinsong Road"),
                ("吴中路", "Wuzhong Road"),
                ("都市路", "Dushi Road"),
                ("剑川路", "Jianchuan Road"),
            ),
        ),
        District(
            "宝山区",
            "Baoshan District",
            31.3900,
            121.4500,
            0.030,
            (
                ("友谊路", "Youyi Road"),
                ("牡丹江路", "Mudanjiang Road"),
                ("同济路", "Tongji Road"),
                ("蕰川路", "Yunchuan Road"),
                ("沪太路", "Hutai Road"),
            ),
        ),
        District(
            "嘉定区",
            "Jiading District",
            31.3600,
            121.2500,
            0.030,
            (
                ("博乐路", "Bole Road"),
                ("城中路", "Chengzhong Road"),
                ("墨玉路", "Moyu Road"),
                ("嘉松北路", "North Jiasong Road"),
                ("塔城路", "Tacheng Road"),
            ),
        ),
        District(
            "松江区",
            "Songjiang District",
            31.0320,
            121.2270,
            0.030,
            (
                ("人民北路", "North Renmin Road"),
                ("新松江路", "Xinsongjiang Road"),
                ("文诚路", "Wencheng Road"),
                ("沪亭北路", "North Huting Road"),
                ("广富林路", "Guangfulin Road"),
            ),
        ),
        District(
            "青浦区",
            "Qingpu District",
            31.1500,
            121.1200,
            0.030,
            (
                ("公园路", "Gongyuan Road"),
                ("外青松公路", "Waiqingsong Highway"),
                ("盈港东路", "East Yinggang Road"),
                ("崧泽大道", "Songze Avenue"),
            ),
        ),
    )
}

# (hanzi, pinyin). English names follow Chinese order: surname first.
SURNAMES = (
    ("王", "Wang"), ("李", "Li"), ("张", "Zhang"), ("刘", "Liu"), ("陈", "Chen"),
    ("杨", "Yang"), ("黄", "Huang"), ("赵", "Zhao"), ("吴", "Wu"), ("周", "Zhou"),
    ("徐", "Xu"), ("孙", "Sun"), ("马", "Ma"), ("朱", "Zhu"), ("胡", "Hu"),
    ("郭", "Guo"), ("何", "He"), ("林", "Lin"), ("罗", "Luo"), ("高", "Gao"),
    ("沈", "Shen"), ("陆", "Lu"), ("顾", "Gu"), ("钱", "Qian"), ("蒋", "Jiang"),
)  # fmt: skip
GIVEN_NAMES = (
    ("建国", "Jianguo"), ("志强", "Zhiqiang"), ("海峰", "Haifeng"), ("伟", "Wei"),
    ("磊", "Lei"), ("军", "Jun"), ("勇", "Yong"), ("杰", "Jie"), ("晓东", "Xiaodong"),
    ("春华", "Chunhua"), ("国庆", "Guoqing"), ("明", "Ming"), ("浩然", "Haoran"),
    ("俊杰", "Junjie"), ("文斌", "Wenbin"), ("立新", "Lixin"), ("卫东", "Weidong"),
    ("德明", "Deming"), ("振华", "Zhenhua"), ("永刚", "Yonggang"), ("敏", "Min"),
    ("丽", "Li"), ("静", "Jing"), ("婷", "Ting"), ("雪梅", "Xuemei"), ("秀英", "Xiuying"),
    ("晓燕", "Xiaoyan"), ("佳怡", "Jiayi"), ("慧", "Hui"), ("颖", "Ying"), ("涛", "Tao"),
    ("斌", "Bin"), ("鹏", "Peng"), ("辉", "Hui"), ("鑫", "Xin"),
)  # fmt: skip

# Customer kinds: the legal-name suffix and the site names a customer of that kind has.
KIND_SUFFIX: dict[str, tuple[str, str]] = {
    "office": ("物业管理有限公司", "Property Management Co., Ltd."),
    "mall": ("商业管理有限公司", "Commercial Management Co., Ltd."),
    "hotel": ("酒店管理有限公司", "Hotel Management Co., Ltd."),
    "hospital": ("", ""),
    "school": ("", ""),
    "factory": ("有限公司", "Co., Ltd."),
    "logistics": ("物流有限公司", "Logistics Co., Ltd."),
    "datacenter": ("科技有限公司", "Technology Co., Ltd."),
    "residential": ("物业服务有限公司", "Property Services Co., Ltd."),
}
SITE_SUFFIXES: dict[str, tuple[tuple[str, str], ...]] = {
    "office": (("", ""), ("B座", " Tower B"), ("裙楼", " Podium")),
    "mall": (("", ""), ("停车楼", " Car Park Building"), ("配送中心", " Distribution Centre")),
    "hotel": (("", ""), ("会议中心", " Conference Centre"), ("员工宿舍楼", " Staff Dormitory")),
    "hospital": (("门诊楼", " Outpatient Building"), ("住院楼", " Inpatient Building")),
    "school": (("教学楼", " Teaching Building"), ("体育馆", " Gymnasium"), ("宿舍楼", " Dorms")),
    "factory": (("一号厂房", " Plant 1"), ("二号厂房", " Plant 2"), ("仓库", " Warehouse")),
    "logistics": (("一号冷库", " Cold Store 1"), ("分拣中心", " Sorting Centre")),
    "datacenter": (("A栋机房", " Data Hall A"), ("B栋机房", " Data Hall B")),
    "residential": (("一期", " Phase I"), ("二期", " Phase II"), ("会所", " Clubhouse")),
}

# core name | English core | district | kind | tier. The legal name is
# 上海 + core + kind suffix; sites are named after the core.
_CUSTOMER_TABLE = """
陆家嘴金融大厦|Lujiazui Financial Tower|浦东新区|office|vip
锦绣广场|Jinxiu Plaza|静安区|office|vip
天钥商务楼|Tianyue Business Building|徐汇区|office|
淮海云锦购物中心|Huaihai Yunjin Shopping Mall|黄浦区|mall|vip
申康康复医院|Shenkang Rehabilitation Hospital|闵行区|hospital|vip
虹桥国际商务中心|Hongqiao International Business Centre|闵行区|office|vip
外滩华商大楼|Bund Huashang Building|黄浦区|office|
张江科创园|Zhangjiang Innovation Park|浦东新区|office|
创智天地|Chuangzhi Innovation Hub|杨浦区|office|
漕河泾软件大厦|Caohejing Software Tower|徐汇区|office|
北外滩航运中心|North Bund Shipping Centre|虹口区|office|vip
恒信大厦|Hengxin Tower|浦东新区|office|
七宝悦城购物中心|Qibao Yuecheng Shopping Centre|闵行区|mall|
星悦汇广场|Xingyuehui Plaza|松江区|mall|
云翔商业广场|Yunxiang Commercial Plaza|嘉定区|mall|
滨江汇购物中心|Binjianghui Shopping Centre|宝山区|mall|
长风湾购物公园|Changfeng Bay Shopping Park|普陀区|mall|
天山商厦|Tianshan Commercial Building|长宁区|mall|
外滩澜庭酒店|Bund Lanting Hotel|黄浦区|hotel|vip
虹桥逸程酒店|Hongqiao Yicheng Hotel|长宁区|hotel|
临港海韵酒店|Lingang Haiyun Hotel|浦东新区|hotel|
雅舍精品酒店|Yashe Boutique Hotel|静安区|hotel|
华泽社区卫生服务中心|Huaze Community Health Centre|徐汇区|hospital|
安平口腔医院|Anping Dental Hospital|杨浦区|hospital|
浦江仁心医院|Pujiang Renxin Hospital|浦东新区|hospital|
嘉定启智实验学校|Jiading Qizhi Experimental School|嘉定区|school|
明远双语学校|Mingyuan Bilingual School|闵行区|school|
青浦育才中学|Qingpu Yucai High School|青浦区|school|
松江大学城图文信息中心|Songjiang University Town Library Centre|松江区|school|
金桥精密电子|Jinqiao Precision Electronics|浦东新区|factory|
嘉安汽车零部件|Jia'an Auto Parts|嘉定区|factory|
宝瑞精工机械|Baorui Precision Machinery|宝山区|factory|
临港新能源电池|Lingang New Energy Battery|浦东新区|factory|vip
华新食品|Huaxin Foods|青浦区|factory|
瑞康生物医药|Ruikang Biopharma|浦东新区|factory|
九亭冷链|Jiuting Cold Chain|松江区|logistics|
外高桥保税仓储|Waigaoqiao Bonded Warehousing|浦东新区|logistics|vip
西虹桥供应链|West Hongqiao Supply Chain|青浦区|logistics|
浦江云数据|Pujiang Cloud Data|闵行区|datacenter|vip
云谷计算|Cloud Valley Computing|嘉定区|datacenter|
杨浦智算|Yangpu Smart Computing|杨浦区|datacenter|
古北瑞景苑|Gubei Ruijing Garden|长宁区|residential|
联洋绿苑|Lianyang Green Garden|浦东新区|residential|
长风湾公寓|Changfeng Bay Apartments|普陀区|residential|
大宁馨园|Daning Xinyuan|静安区|residential|
春申苑|Chunshen Court|闵行区|residential|
滨江雅苑|Riverside Yayuan|虹口区|residential|
佘山云庭|Sheshan Yunting|松江区|residential|
顾村花苑|Gucun Garden|宝山区|residential|
徐汇滨江文创园|Xuhui Riverside Creative Park|徐汇区|office|
"""


@dataclass(frozen=True)
class CustomerSeed:
    core: str
    core_en: str
    district: str
    kind: str
    vip: bool

    @property
    def name(self) -> tuple[str, str]:
        suffix, suffix_en = KIND_SUFFIX[self.kind]
        return f"上海{self.core}{suffix}", f"Shanghai {self.core_en} {suffix_en}".strip()


CUSTOMERS: tuple[CustomerSeed, ...] = tuple(
    CustomerSeed(core, core_en, district, kind, tier == "vip")
    for core, core_en, district, kind, tier in (
        line.split("|") for line in _CUSTOMER_TABLE.strip().splitlines()
    )
)

CONTACT_TITLES = (
    ("工程部经理", "Engineering Manager"),
    ("物业经理", "Property Manager"),
    ("设备主管", "Facilities Supervisor"),
    ("行政主管", "Office Administrator"),
    ("值班工程师", "Duty Engineer"),
)

ACCESS_NOTES = (
    ("从B2停车场货梯上楼，需提前联系保安", "Use the B2 freight lift; call security first"),
    (
        "施工人员须在一楼物业服务中心登记并佩戴胸卡",
        "Sign in at the ground-floor desk; wear a badge",
    ),
    ("机房钥匙在消防控制室，凭工单领取", "Plant room key is at the fire control room"),
    ("营业时间内禁止动火作业，需夜间施工", "No hot work in opening hours; work at night"),
    ("车辆请停放在东门访客车位", "Park in the visitor bays at the east gate"),
    ("进入洁净区需更换鞋套和防尘服", "Cleanroom: overshoes and gowns required"),
    ("夜间22:00后需提前一天报备", "After 22:00, notify the site a day ahead"),
    ("屋面设备需从17层检修口上人，请带安全带", "Roof plant via the 17F hatch; bring a harness"),
)

# Mobile prefixes for customer contacts (technicians all use 138).
CONTACT_PHONE_PREFIXES = ("139", "137", "136", "135", "186", "189", "158")
