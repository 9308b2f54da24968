from __future__ import annotations

from typing import Any

# code, name, subject, body — placeholders in {braces}
TEMPLATES = [
    (
        "sla_warning",
        "时限预警",
        "工单{number}即将到期",
        "【12345热线】工单{number}（{title}）将于{due}到期，请{unit}抓紧办理。",
    ),
    (
        "sla_yellow",
        "黄牌督办",
        "工单{number}已超期（黄牌）",
        "【12345热线】工单{number}（{title}）已超过{stage}时限（{due}），{unit}被亮黄牌，请立即办理。",
    ),
    (
        "sla_red",
        "红牌督办",
        "工单{number}严重超期（红牌）",
        "【12345热线】工单{number}（{title}）超期已达3个工作日，{unit}被亮红牌，请单位负责人督促办理。",
    ),
    (
        "sla_reminder",
        "办理提醒",
        "工单{number}办理提醒",
        "【12345热线】工单{number}（{title}）交办已满7天，请{unit}注意在{due}前办结。",
    ),
    ("case_urged", "催办", "工单{number}催办", "【12345热线】热线办催办工单{number}（{title}）：{message}"),
    # Sent to citizens at intake (the agent picks one); codes starting with "citizen_" are offered there.
    (
        "citizen_received",
        "受理回执（市民）",
        "您的诉求已受理",
        "【12345热线】您的诉求已受理，工单编号{number}，查询密码{password}。我们将在规定时限内办理并回复。",
    ),
    (
        "citizen_answered",
        "答复告知（市民）",
        "您的诉求已答复",
        "【12345热线】您反映的问题（工单编号{number}）已答复：{answer}。如有疑问请再次拨打12345。",
    ),
    # Sent by the merge (并单) to the merged request's caller, who becomes a co-requester of the target case.
    # Not "citizen_": it is not offered at intake.
    (
        "co_requester_merged",
        "并单告知（市民）",
        "您的诉求已并单办理",
        "【12345热线】您反映的诉求（工单编号{merged_number}）与工单{number}为同一事项，已合并办理，"
        "办理结果将一并告知您。如有疑问请再次拨打12345。",
    ),
    # The citizen's reset code for a forgotten query password (cases migration 0006 ships it).
    (
        "query_password_code",
        "查询密码重置验证码（市民）",
        "12345热线查询密码重置验证码",
        "【12345热线】您正在重置工单{number}的查询密码，验证码{code}，{minutes}分钟内有效。如非本人操作，请忽略。",
    ),
]


def seed_templates(model: Any) -> None:
    for code, name, subject, body in TEMPLATES:
        model.objects.get_or_create(code=code, defaults={"name": name, "subject": subject, "body": body})
