"""The texts citizen channels send, as notify message templates (staff edit them in the admin).

Seeded by a migration; `seed_channel_templates` is also what tests call after a flush."""

from __future__ import annotations

from typing import Any

TEMPLATES = [
    (
        "channel_login_code",
        "市民验证码（网站/APP）",
        "12345热线验证码",
        "【12345热线】您的验证码{code}，{minutes}分钟内有效。请勿告诉他人；如非本人操作，请忽略。",
    ),
    (
        "channel_received",
        "网络诉求收到回执（市民）",
        "您的诉求已收到",
        "【12345热线】您的诉求已收到，工单编号{number}，查询密码{password}。我们将尽快受理并回复。",
    ),
    (
        "channel_received_public",
        "网络诉求收到回执（公开诉求，市民）",
        "您的诉求已收到",
        "【12345热线】您的诉求已收到，工单编号{number}。我们将尽快受理并回复。",
    ),
    (
        "channel_callback",
        "短信回访（市民）",
        "请评价办理结果",
        # One SMS (70 UCS-2 characters) with a 14-digit case number.
        "【12345热线】工单{number}已办理，请回复数字评价：5非常满意 4满意 3基本满意 2不满意 1非常不满意",
    ),
    (
        "channel_rating_thanks",
        "评价感谢（市民）",
        "感谢您的评价",
        "【12345热线】已收到您对工单{number}的评价（{rating}），感谢您的支持。",
    ),
    (
        "channel_sms_help",
        "短信无法识别（市民）",
        "12345热线",
        "【12345热线】未能识别您的回复。评价请回复数字1-5；反映问题请直接发送诉求内容（时间、地点、事情经过）。",
    ),
    (
        "channel_appended",
        "短信补充信息已并入工单（市民）",
        "12345热线",
        "【12345热线】您的补充信息已收到，已并入工单{number}，我们将一并办理。",
    ),
    (
        "chat_welcome",
        "在线客服：排队提示（市民）",
        "12345在线客服",
        "您好，欢迎使用12345在线客服。正在为您接入人工客服，请稍候；您可以先描述您的问题（时间、地点、事情经过）。",
    ),
    (
        "chat_accepted",
        "在线客服：客服接入（市民）",
        "12345在线客服",
        "客服{agent}号为您服务，请问有什么可以帮您？",
    ),
    (
        "chat_closed",
        "在线客服：会话结束（市民）",
        "12345在线客服",
        "本次会话已结束，感谢您的咨询。如需继续反映问题，请重新发起咨询或拨打12345。",
    ),
    (
        "chat_case_created",
        "在线客服：已生成工单（市民）",
        "12345在线客服",
        "您反映的问题已登记为工单{number}，可凭工单编号查询办理进度。",
    ),
]
WECHAT_TEMPLATES = [
    (
        "wechat_progress",
        "微信办理进度通知（市民）",
        "诉求办理进度",
        "您的诉求（工单{number}）办理进度：{stage}。{reply}",
    ),
]
# What the official account answers a follower (passive replies). The receipt's query password is added by the
# code after {number}'s sentence (it must stay recognisable to be masked in the stored copy).
WECHAT_TEMPLATES += [
    (
        "wechat_bind_code",
        "微信绑定手机验证码（市民）",
        "12345热线微信绑定验证码",
        "【12345热线】您正在将手机号绑定到12345热线微信公众号，验证码{code}，{minutes}分钟内有效。如非本人操作，请忽略。",
    ),
    (
        "wechat_welcome",
        "微信：关注欢迎语（市民）",
        "12345热线",
        "欢迎关注12345政务服务便民热线。请点击菜单选择诉求类型（咨询、投诉、建议、求助、其他），或发送“绑定 手机号”绑定手机，"
        "发送“我的诉求”查看办理进度，发送“公告”查看最新公告，发送“知识 关键词”查询政策。",
    ),
    (
        "wechat_type_chosen",
        "微信：已选择诉求类型（市民）",
        "12345热线",
        "您选择了“{type}”。请直接发送诉求内容：时间、地点、事情经过和您的请求；也可以先发送照片。",
    ),
    (
        "wechat_need_type",
        "微信：请先选择诉求类型（市民）",
        "12345热线",
        "请先点击菜单选择诉求类型（咨询、投诉、建议、求助、其他），再发送诉求内容。",
    ),
    (
        "wechat_too_short",
        "微信：诉求内容太短（市民）",
        "12345热线",
        "诉求内容太短（至少{min}个字），请写清时间、地点、事情经过和您的请求。",
    ),
    (
        "wechat_need_phone",
        "微信：请先绑定手机（市民）",
        "12345热线",
        "提交诉求前请先绑定手机号，以便办理单位联系和回访：发送“绑定 手机号”。",
    ),
    (
        "wechat_submitted",
        "微信：诉求已受理（市民）",
        "12345热线",
        "您的诉求已受理，工单号 {number}{password_note}。发送“我的诉求”可查看办理进度。",
    ),
    (
        "wechat_text_only",
        "微信：不支持的消息类型（市民）",
        "12345热线",
        "目前仅支持文字和照片，请用文字描述您的诉求（时间、地点、事情经过和您的请求）。",
    ),
    (
        "wechat_photo_held",
        "微信：照片已收到，待提交（市民）",
        "12345热线",
        "已收到第{count}张照片。请继续发送诉求内容：时间、地点、事情经过和您的请求。",
    ),
    (
        "wechat_photo_added",
        "微信：照片已补充到工单（市民）",
        "12345热线",
        "照片已收到，将补充到工单{number}。",
    ),
    (
        "wechat_photo_no_request",
        "微信：照片无对应诉求（市民）",
        "12345热线",
        "请先点击菜单选择诉求类型，再发送照片和诉求内容。",
    ),
    (
        "wechat_no_requests",
        "微信：没有诉求记录（市民）",
        "12345热线",
        "您还没有通过本公众号提交的诉求。",
    ),
    ("wechat_no_news", "微信：暂无公告（市民）", "12345热线", "目前没有公告。"),
    (
        "wechat_kb_hint",
        "微信：知识查询说明（市民）",
        "12345热线",
        "请发送“知识 关键词”查询政策和常见问题，例如：知识 社保卡补办。",
    ),
    (
        "wechat_kb_none",
        "微信：知识未找到（市民）",
        "12345热线",
        "没有找到相关的知识，请换个关键词试试。",
    ),
    (
        "wechat_chat_opened",
        "微信：已转人工客服（市民）",
        "12345在线客服",
        "已为您转接12345在线客服，请稍候，客服接入后将在此回复您。发送“结束会话”可结束。",
    ),
]
TEMPLATES += WECHAT_TEMPLATES
MAIL_TEMPLATES = [
    (
        "channel_mail_answer",
        "邮件答复（市长信箱，市民）",
        "回复：{subject}（工单{number}）",
        "您好：\n\n您反映的问题（工单编号{number}）答复如下：\n\n{answer}\n\n如有疑问，可直接回复本邮件，"
        "我们将在24小时内处理。\n\n12345政务服务便民热线",
    ),
]
TEMPLATES += MAIL_TEMPLATES
CHAT_TEMPLATES = [t for t in TEMPLATES if t[0].startswith("chat_")]


def seed_channel_templates(model: Any) -> None:
    for code, name, subject, body in TEMPLATES:
        model.objects.get_or_create(code=code, defaults={"name": name, "subject": subject, "body": body})
