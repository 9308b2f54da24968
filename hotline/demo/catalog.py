"""Static data of the demo city 江城市: its units, people's names, places and case templates.

Everything here is invented. Codes are stable so that re-running the generator, the benchmark loader and
the tests all find the same units (`OFFICE`, `B01`, `D01`, `D01B01`, `D01S02`, `D01S02C03` …).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

CITY = "江城市"
OFFICE_CODE = "OFFICE"
OFFICE_NAME = "市12345热线办"


@dataclass(frozen=True)
class BureauSpec:
    code: str
    name: str
    is_vertical: bool = False


# City-level bureaus (kind bureau, no parent). Vertically managed ones get their cases directly (DSP-3).
CITY_BUREAUS: tuple[BureauSpec, ...] = (
    BureauSpec("B01", "市公安局"),
    BureauSpec("B02", "市住房和城乡建设局"),
    BureauSpec("B03", "市城市管理执法局"),
    BureauSpec("B04", "市人力资源和社会保障局"),
    BureauSpec("B05", "市教育局"),
    BureauSpec("B06", "市生态环境局"),
    BureauSpec("B07", "市交通运输局"),
    BureauSpec("B08", "市市场监督管理局"),
    BureauSpec("B09", "市卫生健康委员会"),
    BureauSpec("B10", "市水务集团"),
    BureauSpec("B11", "市自然资源和规划局"),
    BureauSpec("B12", "市税务局", is_vertical=True),
    BureauSpec("B13", "市供电公司", is_vertical=True),
    BureauSpec("B14", "市烟草专卖局", is_vertical=True),
    BureauSpec("B15", "市通信管理局", is_vertical=True),
)

# Every district has the same two district bureaus: code suffix → name suffix.
DISTRICT_BUREAUS: tuple[tuple[str, str], ...] = (("B01", "城市管理局"), ("B02", "住房和城乡建设局"))
CITY_MANAGEMENT = "B01"  # district bureau code suffix of 城管局
HOUSING = "B02"  # … of 住建局


@dataclass(frozen=True)
class DistrictSpec:
    code: str
    name: str
    streets: tuple[str, ...]
    rural: bool = False  # a county: towns (镇/乡) and villages (村) instead of streets and communities


DISTRICTS: tuple[DistrictSpec, ...] = (
    DistrictSpec("D01", "滨江区", ("望江街道", "沿河街道", "新华街道", "龙山街道")),
    DistrictSpec("D02", "临湖区", ("湖滨街道", "月湖街道", "翠微街道", "白沙街道")),
    DistrictSpec("D03", "东城区", ("东门街道", "朝阳街道", "和平街道", "胜利街道", "南湖街道")),
    DistrictSpec("D04", "西城区", ("西关街道", "长乐街道", "金桥街道", "青年路街道")),
    DistrictSpec("D05", "高新区", ("光谷街道", "创业街道", "科学城街道", "未来城街道")),
    DistrictSpec("D06", "青山县", ("青山镇", "石门镇", "桃源镇", "柳林乡"), rural=True),
)

# Community names (社区), handed out in order so that none repeats in the city.
COMMUNITY_NAMES: tuple[str, ...] = tuple(
    "春晖 兰亭 桂园 枫林 紫荆 锦绣 阳光 和谐 幸福 东湖 西苑 南山 北辰 翠竹 梧桐 海棠 芙蓉 玉兰 银杏 香樟 "
    "金桂 碧水 青松 明月 星光 天河 花园 滨湖 长虹 彩虹 朝晖 晨曦 新苑 安居 康乐 福星 瑞祥 嘉禾 丰泽 润园 "
    "盛世 华庭 怡景 雅居 绿洲 景秀 泰和 宏图 永安 建设 文化 红旗 工农 民主 团结 友谊 育才 光明 鑫苑 荷塘 "
    "柳岸 望月 观澜 听涛 凤凰 龙湾 江畔 书香 白鹭 清风 云杉 紫薇 松涛 丹桂 杏林 麒麟 白云 金沙".split()
)
VILLAGE_NAMES: tuple[str, ...] = tuple(
    "李家 张湾 王庄 石桥 柳树 杨岭 桃花 黄泥 大坪 河口 高山 新田 白马 马鞍 龙潭".split()
)
COMMUNITIES_PER_STREET = 3
EXTRA_COMMUNITY_ON_FIRST_STREET = True  # the first street of every district has one more

ROADS: tuple[str, ...] = tuple(
    "解放路 中山路 人民路 建设大道 长江路 友谊大道 和平大道 青年路 光明路 学府路 滨江大道 湖滨路 文化路 "
    "新华路 胜利街 工业大道 科技路 发展大道 迎宾路 育才路".split()
)
ESTATES: tuple[str, ...] = tuple(
    "幸福里 锦绣江南 金色港湾 阳光花园 翡翠湾 滨江一号 书香门第 紫金苑 御景园 丽水佳园 "
    "碧桂园 未来城 悦澜府 世纪家园 星河湾 和园 兰亭苑 新城国际 江景豪庭 怡和苑".split()
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴孔汤"
GIVEN_CHARS = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚华玉兰桂英建国志红文斌辉鹏飞宇婷雪梅琳晨浩然俊凯博佳欣怡子涵雨轩思远"
COMPANIES: tuple[str, ...] = (
    "江城宏达建筑劳务有限公司",
    "江城鑫源装饰工程有限公司",
    "江城美味餐饮管理有限公司",
    "江城快达物流有限公司",
    "江城恒信电子科技有限公司",
    "江城安心物业服务有限公司",
    "江城万家福超市",
    "江城顺通汽车服务有限公司",
)
SCHOOLS: tuple[str, ...] = ("实验小学", "第一中学", "育才小学", "外国语学校", "第三初级中学", "光明小学")


@dataclass(frozen=True)
class CaseTemplate:
    """One kind of citizen request. `bureau` is a city bureau code or `D:<suffix>` for the district's own bureau.

    `lead` says who usually handles it: `district` (the incident's district, forwarded down to the street and
    community) or `bureau` (the competent bureau itself).
    """

    key: str
    title: str
    case_type: str
    nature: str
    bureau: str
    lead: str
    texts: tuple[str, ...]
    answer: str
    results: tuple[str, ...]
    keywords: str = ""
    urgent_share: float = 0.15


TEMPLATES: tuple[CaseTemplate, ...] = (
    CaseTemplate(
        key="night_noise",
        title="夜间施工噪音扰民",
        case_type="complaint",
        nature="environment",
        bureau="D:B01",
        lead="district",
        keywords="夜间施工 噪音",
        texts=(
            "来电人反映：{loc}附近的在建工地近{days}天每天晚上十点以后仍在施工，打桩机和渣土车作业声音很大，"
            "一直持续到凌晨一两点，严重影响周边居民休息，家中老人和孩子无法入睡。来电人曾向工地门卫反映，"
            "对方称工期紧张无法停工。来电人希望相关部门尽快核实，依法查处夜间违规施工行为。",
            "来电人称其居住在{loc}，楼下商铺近期装修，每天晚上九点以后仍在切割瓷砖、电钻打孔，噪音刺耳，"
            "已持续{days}天。来电人多次与施工人员沟通无果，诉求相关部门到现场制止夜间装修噪音扰民。",
        ),
        answer="已告知来电人夜间施工须办理夜间施工许可，并将其诉求转城管部门核查。",
        results=(
            "经执法人员夜间现场核查，该工地未办理夜间施工许可，已责令其晚上十点后停止高噪声作业，"
            "并立案调查；已电话告知来电人处理情况。",
            "已约谈施工单位负责人，要求其合理安排工期，夜间不得进行高噪声作业，社区将安排网格员持续巡查。",
        ),
    ),
    CaseTemplate(
        key="pothole",
        title="道路坑洼破损",
        case_type="report",
        nature="transport",
        bureau="B07",
        lead="district",
        keywords="道路 坑洼",
        texts=(
            "来电人反映：{road}靠近{loc}路段路面出现多处坑洼，最大的坑直径约一米、深约二十厘米，"
            "雨天积水后看不清路面，已有电动车骑行人员在此摔倒受伤。来电人诉求相关部门尽快修补路面，"
            "并在维修前设置警示标志，保障行人和车辆通行安全。",
            "来电人称{loc}门口的人行道地砖大面积松动破损，窨井盖下沉约十厘米，老人和孩子经过时容易绊倒，"
            "问题已存在{days}天。来电人希望相关部门尽快安排维修。",
        ),
        answer="已告知来电人道路维修的责任部门及报修渠道。",
        results=(
            "已安排养护队伍对该路段坑洼进行沥青冷补，并设置了临时警示标志，路面已恢复平整通行。",
            "经现场查看，已更换破损地砖约三十平方米，窨井盖已由产权单位调平加固。",
        ),
    ),
    CaseTemplate(
        key="wage_arrears",
        title="拖欠农民工工资",
        case_type="complaint",
        nature="social_security",
        bureau="B04",
        lead="bureau",
        keywords="欠薪 农民工工资",
        urgent_share=0.3,
        texts=(
            "来电人反映：其与{n}名工友在{loc}的建筑工地为{company}务工，从事钢筋和模板工作，"
            "公司至今拖欠其{months}个月工资共计约{amount}元，多次讨要，包工头以工程款未到位为由拒绝支付。"
            "临近年底，工友们生活困难，诉求相关部门督促用人单位尽快足额支付工资。",
            "来电人称其在{company}上班，公司自{months}个月前起以经营困难为由停发工资，拖欠约{amount}元，"
            "且未按规定缴纳社会保险。来电人诉求劳动保障部门介入调查，依法维护其合法权益。",
        ),
        answer="已告知来电人可携带劳动合同、考勤记录等材料到劳动保障监察大队投诉，或申请劳动仲裁。",
        results=(
            "经劳动保障监察大队调查核实，该公司确实存在拖欠工资情况，已下达限期整改指令书，"
            "公司已于本周将拖欠工资全部发放到位，来电人已确认收到。",
            "已约谈用人单位及总承包方负责人，责令其在十个工作日内支付拖欠工资，并动用工资保证金先行垫付。",
        ),
    ),
    CaseTemplate(
        key="property",
        title="物业服务不到位",
        case_type="complaint",
        nature="urban",
        bureau="D:B02",
        lead="district",
        keywords="物业 电梯",
        texts=(
            "来电人反映：其居住在{loc}，小区物业公司服务长期不到位，{n}号楼电梯经常停运，最近一次故障已停运"
            "{days}天仍未修复，楼道灯不亮、垃圾无人清理，业主多次向物业反映无果。来电人诉求相关部门督促物业"
            "公司尽快维修电梯并改进服务。",
            "来电人称{loc}物业公司未经业主大会同意擅自上调物业费，并把小区公共区域出租用于停车收费，"
            "收益去向不明。来电人希望主管部门调查核实，责令物业公司公开公共收益。",
        ),
        answer="已告知来电人可通过业主委员会与物业协商，并向住建部门物业科反映。",
        results=(
            "已约谈物业公司负责人，电梯已由维保单位更换主板后恢复运行，物业承诺加强日常巡检和保洁。",
            "经核查，该物业公司调价未履行法定程序，已责令其暂停执行新标准，并在小区公示公共收益明细。",
        ),
    ),
    CaseTemplate(
        key="enrolment",
        title="子女入学咨询",
        case_type="consult",
        nature="education",
        bureau="B05",
        lead="bureau",
        keywords="入学 学区",
        urgent_share=0.05,
        texts=(
            "来电人咨询：其户籍不在本市，在{loc}租房居住已满{years}年，孩子今年满六周岁，想就近在{school}"
            "就读一年级，不清楚随迁子女入学需要准备哪些材料、网上报名的时间和流程，希望教育部门给予答复。",
            "来电人反映：其家住{loc}，房产在{school}的划片范围内，但今年报名时被告知学位已满需统筹安排到较远学校，"
            "孩子上学单程需四十分钟。来电人诉求教育部门说明划片依据并妥善安排就近入学。",
        ),
        answer="已告知来电人随迁子女入学所需材料（居住证、租房合同、社保缴纳证明等）及网上报名时间。",
        results=(
            "已电话联系来电人，详细解答了随迁子女入学政策、所需材料和报名时间，来电人表示清楚。",
            "经核实，该校今年学位确已饱和，已按统筹方案安排至邻近学校，并开通了上下学公交专线。",
        ),
    ),
    CaseTemplate(
        key="garbage",
        title="生活垃圾清运不及时",
        case_type="complaint",
        nature="environment",
        bureau="D:B01",
        lead="district",
        keywords="垃圾 清运",
        texts=(
            "来电人反映：{loc}垃圾收集点的生活垃圾已经{days}天没有清运，垃圾桶满溢后堆在路边，天气炎热散发恶臭，"
            "招来大量蚊蝇老鼠，严重影响周边居民生活和环境卫生。来电人诉求相关部门尽快清运并加大清运频次。",
            "来电人称{road}与{loc}交叉口附近有人长期乱倒建筑垃圾和大件家具，已堆积成小山，占用人行道，"
            "存在安全隐患。来电人希望相关部门尽快清理并查处乱倒行为。",
        ),
        answer="已告知来电人垃圾清运的责任单位联系电话。",
        results=(
            "已协调环卫公司当日清运积存垃圾，并将该收集点清运频次调整为每日两次。",
            "已组织人员清理建筑垃圾约二十车，并在该处安装监控和警示牌，防止再次乱倒。",
        ),
    ),
    CaseTemplate(
        key="water_outage",
        title="无故停水",
        case_type="help",
        nature="urban",
        bureau="B10",
        lead="bureau",
        keywords="停水 供水",
        urgent_share=0.4,
        texts=(
            "来电人反映：{loc}从今天早上六点开始停水，事先没有看到任何停水通知，拨打供水服务电话一直占线，"
            "小区{n}户居民生活用水受到影响，家中有老人需要做饭洗漱。来电人诉求供水部门尽快查明原因、恢复供水。",
            "来电人称{loc}近{days}天每天晚上水压很低，高层住户基本没有水，热水器无法启动。来电人希望供水部门"
            "检查管网和二次供水设备，尽快解决水压不足问题。",
        ),
        answer="已告知来电人该区域因管网抢修临时停水，预计当日恢复供水。",
        results=(
            "经查系{road}供水主管爆裂导致停水，已连夜抢修完毕，当晚已恢复供水，并安排送水车临时供水。",
            "已对小区二次供水加压泵进行检修更换，水压已恢复正常，来电人确认高层用水正常。",
        ),
    ),
    CaseTemplate(
        key="illegal_parking",
        title="车辆乱停乱放",
        case_type="report",
        nature="public_security",
        bureau="B01",
        lead="bureau",
        keywords="违停 消防通道",
        texts=(
            "来电人反映：{loc}小区门口和消防通道每天晚上都停满了私家车，有的车辆直接停在人行道和盲道上，"
            "救护车和消防车根本无法进出，上周有老人突发疾病救护车只能停在外面。来电人诉求交警部门加强"
            "巡查、依法处罚违停车辆，保持消防通道畅通。",
            "来电人称{road}靠近{loc}路段长期有货车和工程车违规停放，占用一个车道，早晚高峰经常堵车，"
            "存在交通安全隐患，诉求相关部门加强管理。",
        ),
        answer="已告知来电人违停可通过交管平台随手拍举报。",
        results=(
            "交警大队已加强该路段早晚高峰巡查，近一周共处罚违停车辆二十余辆，并施划了禁停标线。",
            "已联合社区和物业在消防通道设置隔离桩和禁停标识，违停现象明显好转。",
        ),
    ),
    CaseTemplate(
        key="power_outage",
        title="频繁停电",
        case_type="help",
        nature="urban",
        bureau="B13",
        lead="bureau",
        keywords="停电 供电",
        urgent_share=0.35,
        texts=(
            "来电人反映：{loc}近{days}天内已停电{n}次，每次停电一到两个小时，没有任何通知，冰箱里的食物坏掉，"
            "家中老人需要用制氧机，停电影响很大。来电人诉求供电部门查明原因，尽快解决频繁停电问题。",
        ),
        answer="已告知来电人供电故障报修电话95598。",
        results=(
            "经供电公司抢修人员排查，系该台区变压器负荷过大导致跳闸，已更换大容量变压器，供电已恢复稳定。",
        ),
    ),
    CaseTemplate(
        key="tax_invoice",
        title="个税汇算咨询",
        case_type="consult",
        nature="other",
        bureau="B12",
        lead="bureau",
        keywords="个税 汇算",
        urgent_share=0.0,
        texts=(
            "来电人咨询：其在{company}工作，今年个人所得税综合所得年度汇算时，手机应用提示需补税约{amount}元，"
            "来电人认为专项附加扣除中的子女教育和住房贷款利息没有计算进去，不知道如何更正申报，"
            "希望税务部门给予解答。",
        ),
        answer="已告知来电人可在个人所得税应用中更正申报并补填专项附加扣除。",
        results=("税务局已电话联系来电人，指导其在个人所得税应用中补填专项附加扣除并更正申报，问题已解决。",),
    ),
    CaseTemplate(
        key="tobacco",
        title="向未成年人售烟",
        case_type="report",
        nature="market",
        bureau="B14",
        lead="bureau",
        keywords="售烟 未成年人",
        texts=(
            "来电人举报：{loc}附近{school}门口的一家便利店长期向穿校服的学生出售香烟，还拆开整包零散出售，"
            "店门口没有张贴不向未成年人售烟的标识。来电人担心孩子们染上吸烟习惯，诉求相关部门依法查处。",
        ),
        answer="已告知来电人烟草专卖部门的举报渠道。",
        results=("烟草专卖局已对该店进行检查，对其向未成年人售烟行为依法作出处罚，并责令张贴禁售标识。",),
    ),
    CaseTemplate(
        key="telecom",
        title="手机信号差",
        case_type="complaint",
        nature="other",
        bureau="B15",
        lead="bureau",
        keywords="信号 基站",
        urgent_share=0.0,
        texts=(
            "来电人反映：其居住在{loc}，家中手机信号长期很差，室内经常无法接通电话，上网只有一格信号，"
            "影响工作和生活，已向运营商客服反映{n}次，一直没有解决。来电人诉求通信管理部门督促运营商"
            "优化基站覆盖。",
        ),
        answer="已告知来电人可向运营商申请室内信号覆盖评估。",
        results=("通信管理局已督促运营商现场测试，已在小区新增一处微基站，室内信号明显改善。",),
    ),
    CaseTemplate(
        key="food_safety",
        title="超市销售过期食品",
        case_type="complaint",
        nature="market",
        bureau="B08",
        lead="bureau",
        keywords="过期食品 超市",
        texts=(
            "来电人投诉：其于昨日在{loc}的{company}购买了一箱牛奶，回家后发现已经过期{days}天，"
            "与超市协商退换时店员态度恶劣，只同意退货不同意赔偿。来电人诉求市场监管部门调查处理，"
            "依法维护消费者权益。",
        ),
        answer="已告知来电人保留购物小票和商品，可要求经营者按规定赔偿。",
        results=(
            "市场监管所已现场检查，下架过期食品若干，对超市立案调查，并组织双方调解，超市已按规定赔偿。",
        ),
    ),
    CaseTemplate(
        key="street_vendor",
        title="占道经营",
        case_type="report",
        nature="urban",
        bureau="D:B01",
        lead="district",
        keywords="占道经营 夜市",
        texts=(
            "来电人反映：{road}靠近{loc}路段每天傍晚开始有大量流动摊贩占道经营烧烤、小吃，油烟和噪音很大，"
            "垃圾遍地，行人只能走机动车道，存在安全隐患。来电人诉求城管部门加强管理，规范经营秩序。",
        ),
        answer="已告知来电人城管部门的投诉电话。",
        results=("城管中队已加强该路段早晚巡查，引导摊贩进入规范经营点，占道现象已明显减少。",),
    ),
    CaseTemplate(
        key="bus_route",
        title="建议增开公交线路",
        case_type="suggest",
        nature="transport",
        bureau="B07",
        lead="bureau",
        keywords="公交 线路",
        urgent_share=0.0,
        texts=(
            "来电人建议：{loc}周边新建小区入住居民已有上万人，但附近只有一条公交线路，早高峰车辆间隔长达"
            "二十分钟，居民到地铁站很不方便。来电人建议交通部门增开一条连接地铁站的社区公交线路，或加密现有班次。",
        ),
        answer="已记录来电人建议并告知将转交交通运输部门研究。",
        results=("交通运输局已组织调研，拟于下月开通社区微循环公交线路，连接附近地铁站，已答复来电人。",),
    ),
    CaseTemplate(
        key="praise",
        title="表扬社区工作人员",
        case_type="praise",
        nature="other",
        bureau="D:B02",
        lead="district",
        keywords="表扬",
        urgent_share=0.0,
        texts=(
            "来电人表扬：{loc}的社区工作人员在其家中老人突发疾病、子女不在身边时，第一时间帮忙联系救护车并陪同"
            "到医院，之后还多次上门看望。来电人希望通过热线对社区工作人员表示衷心感谢，并希望给予表扬。",
        ),
        answer="已记录来电人的表扬意见，将转达相关单位。",
        results=("已将来电人的表扬转达社区，并在街道工作例会上予以通报表扬。",),
    ),
)

CALLBACK_GOOD_WORDS = (
    "问题已经解决，感谢政府部门。",
    "工作人员态度很好，处理及时。",
    "基本解决了，希望以后加强管理。",
    "已经处理了，满意。",
)
CALLBACK_BAD_WORDS = (
    "问题根本没有解决，单位只是打了个电话。",
    "处理结果与实际情况不符，现场还是老样子。",
    "承诺的事情没有兑现，不满意。",
)
# What callbacks say beside the rating, as shares (invented, plausible): a satisfied citizen was nearly always
# contacted and mostly has the problem solved; a dissatisfied one was often not contacted and mostly not solved.
# (responded yes share, (solved, partly) shares; the rest unsolved), by satisfied / dissatisfied.
CALLBACK_ANSWER_SHARES = {True: (0.97, (0.86, 0.11)), False: (0.72, (0.08, 0.32))}


def callback_answers(satisfied: bool, rng: random.Random) -> tuple[str, str]:
    """A callback's (responded, solution) values drawn with `CALLBACK_ANSWER_SHARES` (the demo and bench data)."""
    contacted, (solved, partly) = CALLBACK_ANSWER_SHARES[satisfied]
    responded = "yes" if rng.random() < contacted else "no"
    draw = rng.random()
    solution = "solved" if draw < solved else "partly" if draw < solved + partly else "unsolved"
    return responded, solution
