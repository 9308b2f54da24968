"""The demo city's knowledge base, screen-pop layouts and blacklist: something to search, suggest and warn
about when a newcomer clicks through (written through the services, so reviews, versions and the index are
as in real use). Answers are illustrative, written for the fictional 江城市."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from hotline.citizens import services as citizen_services
from hotline.citizens.models import BlacklistDirection, BlacklistTreatment, ScreenPopLayout
from hotline.common import clock
from hotline.knowledge import services as kb
from hotline.knowledge.models import Space
from hotline.orgs.models import User

SPACE_CODE = "JIANGCHENG"


@dataclass(frozen=True)
class DemoItem:
    title: str
    keywords: str
    content: str
    public: bool = True


TREE: dict[str, dict[str, tuple[DemoItem, ...]]] = {
    "社会保障": {
        "社保卡": (
            DemoItem(
                "社保卡补办流程",
                "社保卡 补办 挂失",
                "社保卡丢失后，先拨打12345或到合作银行网点办理临时挂失。补办可在各区政务服务中心社保窗口或合作"
                "银行网点办理，携带本人身份证，现场制卡的约30分钟取卡，非现场制卡的约15个工作日后凭回执领取。",
            ),
            DemoItem(
                "社保卡激活与密码重置",
                "社保卡 激活 密码",
                "新领取的社保卡须本人持身份证到合作银行网点激活金融功能；医保功能领卡即可使用。忘记密码的，可在"
                "银行网点或社保自助终端凭身份证重置。",
            ),
        ),
        "医疗保险": (
            DemoItem(
                "异地就医备案",
                "医保 异地就医 备案",
                "参保人到外地长期居住或临时外出就医，可通过国家医保服务平台App、江城医保公众号或区医保经办窗口"
                "办理备案，备案后在定点医院直接结算。未备案先行垫付的，回江城后凭发票和病历到医保窗口报销。",
            ),
            DemoItem(
                "新生儿参加城乡居民医保",
                "新生儿 医保 参保",
                "新生儿自出生之日起3个月内办理参保登记并缴费的，出生当年发生的医疗费用可按规定报销。办理时携带"
                "出生医学证明和户口簿，可在户籍所在地社区或街道便民服务中心办理。",
            ),
        ),
        "就业与工资": (
            DemoItem(
                "被拖欠工资怎么办",
                "拖欠工资 欠薪 农民工 劳动监察",
                "劳动者被拖欠工资，可向用工单位所在区的劳动保障监察大队投诉，或拨打12345反映。请准备劳动合同、"
                "考勤或工资条、聊天记录等证据。工程建设领域拖欠农民工工资的，由属地人社部门会同住建部门督办，"
                "施工总承包单位先行清偿。",
            ),
            DemoItem(
                "失业保险金申领",
                "失业金 失业保险 申领",
                "非因本人意愿中断就业、失业前缴纳失业保险满一年并已办理失业登记的，可在线上或区人社窗口申领失业"
                "保险金，领取期限按累计缴费时间计算，最长24个月。",
            ),
        ),
    },
    "住房与物业": {
        "住房公积金": (
            DemoItem(
                "租房提取住房公积金",
                "公积金 提取 租房",
                "在江城无自有住房且租房居住的职工，可每年申请提取一次住房公积金用于支付房租，通过公积金App或"
                "各管理部柜台办理，提取额度按市公积金中心当年公布的标准执行。",
            ),
        ),
        "物业管理": (
            DemoItem(
                "对物业服务不满意如何投诉",
                "物业 物业公司 投诉 业主大会",
                "物业服务不到位的，业主可先向物业服务企业书面提出，未解决的向所在社区居委会和街道物业管理办公室"
                "反映；涉及物业服务合同纠纷的，可由业主大会依法决定续聘或解聘物业服务企业。",
            ),
        ),
    },
    "城市管理": {
        "噪音与施工": (
            DemoItem(
                "夜间施工噪音扰民",
                "噪音 夜间施工 扰民",
                "每日22时至次日6时，除抢修、抢险作业和因生产工艺要求必须连续作业并取得夜间施工证明的以外，禁止"
                "在噪声敏感建筑物集中区域进行产生噪声的建筑施工作业。夜间施工扰民可拨打12345，由属地城管部门"
                "核查处理；持有夜间施工证明的，施工单位应公告附近居民。",
            ),
            DemoItem(
                "商铺、广场舞噪音",
                "噪音 商铺 广场舞 扰民",
                "商业经营活动中使用高音广播喇叭招揽顾客的，由城管部门依法处理；广场舞等公共场所活动噪音，由属地"
                "街道协调并由公安机关依法处理。",
            ),
        ),
        "市容环卫": (
            DemoItem(
                "生活垃圾清运不及时",
                "垃圾 清运 环卫",
                "小区内生活垃圾由物业或社区负责收集，市政道路及公共区域由区环卫部门负责清运，清运频次不少于每日"
                "一次。清运不及时的，可拨打12345反映，由属地环卫所在24小时内处理。",
            ),
            DemoItem(
                "占道经营",
                "占道经营 摆摊 流动摊贩",
                "在城市道路、广场等公共场所擅自摆摊设点、占道经营的，由城管部门劝导、依法处理；街道设置的便民"
                "疏导点可按规定时段经营。",
            ),
        ),
    },
    "交通出行": {
        "停车与道路": (
            DemoItem(
                "车辆乱停乱放",
                "乱停乱放 违停 停车",
                "机动车在人行道、消防通道等处违法停放的，可拨打12345或110反映，由交警部门处理；小区内部道路停车"
                "秩序由物业管理，消防通道被占用的，消防部门可依法处理。",
            ),
            DemoItem(
                "道路坑洼破损",
                "道路 坑洼 破损 维修",
                "市政道路破损由区市政设施管理部门负责维修，一般病害在3个工作日内修复，影响通行安全的当日设置警示"
                "并抢修；小区内部道路由产权单位或物业负责。",
            ),
        ),
        "公共交通": (
            DemoItem(
                "公交线路和班次建议",
                "公交 线路 班次 建议",
                "对公交线路、站点、班次的建议由市交通运输局和公交集团受理，经客流调查后统一调整，调整方案在"
                "江城公交公众号公示。",
            ),
        ),
    },
    "税务": {
        "个人所得税": (
            DemoItem(
                "个人所得税年度汇算",
                "个税 汇算 退税 专项附加扣除",
                "纳税人可在次年3月1日至6月30日通过个人所得税App办理上一年度综合所得汇算清缴，填报子女教育、"
                "住房贷款利息等专项附加扣除；需补税且年收入不超过12万元的免予补税。",
            ),
        ),
    },
    "市场监管": {
        "食品安全": (
            DemoItem(
                "超市销售过期食品",
                "过期食品 食品安全 超市 投诉",
                "发现销售过期食品，请保留购物小票和商品，拨打12345或12315投诉举报，由属地市场监管所核查处理；"
                "消费者可依法要求赔偿。",
            ),
            DemoItem(
                "向未成年人售烟",
                "未成年人 售烟 烟草",
                "禁止向未成年人出售烟酒，经营者应在显著位置设置不向未成年人出售烟酒的标志，对难以判明是否成年的"
                "应要求出示身份证件。违反规定的，由烟草专卖和市场监管部门依法查处。",
            ),
        ),
    },
    "内部口径": {
        "话务规范": (
            DemoItem(
                "来电人情绪激动时的应答口径",
                "话务 口径 情绪 安抚",
                "先倾听、不打断，复述来电人的诉求以示理解；不作超出职责的承诺，明确告知工单编号和办理时限；来电人"
                "辱骂的，提醒一次后仍继续的，可按规定结束通话并记录。",
                public=False,
            ),
        ),
    },
}

BLACKLIST = (
    ("13900000666", BlacklistDirection.INBOUND, BlacklistTreatment.ANNOUNCEMENT, "反复骚扰热线，已多次劝导"),
    ("02788886666", BlacklistDirection.BOTH, BlacklistTreatment.VOICEMAIL, "推销电话"),
)
LAYOUTS = (
    ("", "默认", ["blacklist", "profile", "open_cases", "counts", "recent_cases", "contacts", "history"]),
    (
        "027",
        "本地固话",
        ["blacklist", "open_cases", "profile", "recent_cases", "counts", "contacts", "history"],
    ),
)


def seed_knowledge(*, admin: User, editor: User) -> int:
    """The demo space with its tree and items (idempotent: nothing if the space exists). Returns items made."""
    if Space.objects.filter(code=SPACE_CODE).exists():
        return 0
    space = kb.space_create(actor=admin, name="江城市12345知识库", code=SPACE_CODE, admins=[admin])
    made = 0
    valid_from = clock.now() - dt.timedelta(days=30)
    for top, children in TREE.items():
        parent = kb.directory_create(actor=admin, space=space, name=top)
        for name, items in children.items():
            directory = kb.directory_create(actor=admin, space=space, parent=parent, name=name)
            for item in items:
                data = kb.ItemInput(
                    title=item.title,
                    keywords=item.keywords,
                    content=f"<p>{item.content}</p>",
                    is_public=item.public,
                    valid_from=valid_from,
                )
                # Internal wording goes through review (the editor submits; kbreviewer1 finds it waiting).
                author = admin if item.public else editor
                kb.item_create(actor=author, directory=directory, data=data)
                made += 1
    return made


def seed_citizen_settings(*, actor: User) -> None:
    for prefix, name, sections in LAYOUTS:
        ScreenPopLayout.objects.get_or_create(
            prefix=prefix, defaults={"name": name, "layout": {"sections": sections}}
        )
    for number, direction, treatment, reason in BLACKLIST:
        citizen_services.blacklist_add(
            actor=actor,
            data=citizen_services.BlacklistInput(
                number=number, direction=direction, treatment=treatment, reason=reason
            ),
        )
