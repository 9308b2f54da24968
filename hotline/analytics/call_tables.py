"""The call reports as tables: header and rows as shown on the page and exported (to a download or a scheduled
e-mail), with the labels they use."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import calls

REPORTS = {
    "volume": gettext_lazy("综合话务量"),
    "queues": gettext_lazy("技能组话务（等待时长分段）"),
    "agents": gettext_lazy("坐席工作量"),
    "states": gettext_lazy("坐席状态时长与小休"),
    "detail": gettext_lazy("通话明细"),
    "logins": gettext_lazy("签入签出明细"),
    "trunk": gettext_lazy("中继（接入号码）呼入"),
    "ivr": gettext_lazy("语音导航节点话务量"),
    "controls": gettext_lazy("转接、咨询、三方与保持"),
}
STATE_LABELS = {
    "ready": gettext_lazy("空闲"),
    "not_ready": gettext_lazy("示忙"),
    "ringing": gettext_lazy("振铃"),
    "talking": gettext_lazy("通话"),
    "hold": gettext_lazy("保持"),
    "wrap_up": gettext_lazy("话后处理"),
}


DRILLED = ("volume", "queues", "trunk", "ivr", "controls", "agents")
DETAIL_PER_PAGE = 50
EXPORT_LIMIT = 100_000  # rows of one exported call detail; the file says so when the period has more
DETAIL_LABELS = {
    "dialed": gettext_lazy("接入号码"),
    "ivr_flow": gettext_lazy("语音导航流程"),
    "ivr_node": gettext_lazy("语音导航节点"),
    "agent": gettext_lazy("坐席工号"),
    "control": gettext_lazy("通话控制"),
    "queue": gettext_lazy("技能组"),
    "hour": gettext_lazy("时段"),
}


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value}%"


def _none(value: Any) -> Any:
    return "—" if value is None else value


def table(
    report: str,
    window: calls.Window,
    grain: str,
    detail_filters: dict[str, str] | None = None,
    page_calls: list[Any] | None = None,
) -> tuple[list[str], list[list[Any]], list[dict[str, Any]]]:
    """Header, rows (cells as shown and exported) and the raw rows of one report; the call detail shows
    `page_calls` (one page on the screen) or, exported, up to EXPORT_LIMIT calls."""
    if report == "volume":
        raw = calls.volume(window, grain)
        raw = [*raw, calls.totals(raw, window)] if raw else raw
        header = [_("时段"), _("呼入量"), _("进入排队"), _("人工接通"), _("通话时长（秒）"), _("放弃"),
                  _("呼出"), _("20秒服务水平"), _("接通率")]  # fmt: skip
        rows = [
            [r["bucket"], r["inbound"], r["to_queue"], r["answered"], r["talk_seconds"], r["abandoned"],
             r["outbound"], _pct(r["service_level"]), _pct(r["answer_rate"])]
            for r in raw
        ]  # fmt: skip
    elif report == "queues":
        raw = calls.per_queue(window)
        bands = [calls.BAND_LABELS[k] for k, _l, _h in calls.BANDS]
        header = [_("技能组"), _("进入"), _("接通"), _("放弃"), _("溢出"), _("平均等待（秒）"), _("20秒服务水平"),
                  *[_("接通") + b for b in bands], *[_("放弃") + b for b in bands]]  # fmt: skip
        rows = [
            [r["queue"], r["entered"], r["answered"], r["abandoned"], r["overflow"], _none(r["average_wait"]),
             _pct(r["service_level"]), *[r[f"answered_{k}"] for k, _l, _h in calls.BANDS],
             *[r[f"abandoned_{k}"] for k, _l, _h in calls.BANDS]]
            for r in raw
        ]  # fmt: skip
    elif report == "agents":
        raw = calls.per_agent(window)
        header = [_("工号"), _("姓名"), _("分配"), _("接通"), _("未接"), _("接通率"), _("20秒服务水平"),
                  _("通话时长（秒）"), _("平均通话（秒）"), _("话后处理（秒）"), _("示忙（秒）"), _("占用率"),
                  _("签入次数")]  # fmt: skip
        rows = [
            [r["agent"], r["name"], r["offered"], r["answered"], r["no_answer"], _pct(r["answer_rate"]),
             _pct(r["service_level"]), r["talk_seconds"], _none(r["average_talk"]), r["wrap_up_seconds"],
             r["not_ready_seconds"], _pct(r["occupancy"]), r["logins"]]
            for r in raw
        ]  # fmt: skip
    elif report == "states":
        raw = calls.agent_states(window)
        header = [
            _("工号"),
            _("姓名"),
            *[f"{STATE_LABELS[s]}（秒）" for s in calls.STATE_COLUMNS],
            _("小休明细"),
        ]
        rows = [
            [r["agent"], r["name"], *[r[f"{s}_seconds"] for s in calls.STATE_COLUMNS],
             "；".join(f"{b['reason']} {b['count']}次 {b['seconds']}秒" for b in r["breaks"])]
            for r in raw
        ]  # fmt: skip
    elif report == "trunk":
        raw = calls.trunk_inbound(window)
        header = [_("接入号码"), _("名称"), _("呼入量"), _("进入排队"), _("人工接通"), _("排队放弃"), _("自助结束"),
                  _("黑名单处理"), _("接通率")]  # fmt: skip
        rows = [
            [r["dialed"], r["name"], r["inbound"], r["to_queue"], r["answered"], r["abandoned"], r["self_service"],
             r["blacklisted"], _pct(r["answer_rate"])]
            for r in raw
        ]  # fmt: skip
    elif report == "ivr":
        raw = calls.ivr_nodes(window)
        header = [_("语音导航流程"), _("节点"), _("进入次数"), _("呼叫数"), _("按键"), _("按键超时"), _("无效按键"),
                  _("查询成功"), _("查询失败")]  # fmt: skip
        rows = [
            [r["flow"], r["node"], r["entries"], r["calls"], r["keys"], r["timeouts"], r["invalid"], r["found"],
             r["not_found"]]
            for r in raw
        ]  # fmt: skip
    elif report == "controls":
        raw = calls.call_controls(window)
        header = [_("工号"), _("姓名"), _("直接转接"), _("咨询"), _("咨询后转接"), _("三方通话"), _("保持次数"),
                  _("保持时长（秒）")]  # fmt: skip
        rows = [
            [r["agent"], r["name"], *[r[k] for k, _kind in calls.CONTROL_COLUMNS], r["holds"], r["hold_seconds"]]
            for r in raw
        ]  # fmt: skip
    elif report == "logins":
        raw = calls.login_sessions(window)
        header = [_("工号"), _("姓名"), _("签入时间"), _("签出时间"), _("签出方式"), _("在线时长（秒）")]
        rows = [
            [r["agent"], r["name"], r["login_at"].strftime("%Y-%m-%d %H:%M:%S"),
             r["logout_at"].strftime("%Y-%m-%d %H:%M:%S") if r["logout_at"] else _("仍在线"), r["ended_by"] or "—",
             r["seconds"]]
            for r in raw
        ]  # fmt: skip
    else:
        source = calls.detail_source(window, detail_filters)
        raw = calls.call_detail(list(page_calls if page_calls is not None else source[:EXPORT_LIMIT]))
        header = [_("呼叫编号"), _("呼入时间"), _("队列"), _("坐席"), _("排队（秒）"), _("通话（秒）"), _("结果"),
                  _("关联工单")]  # fmt: skip
        rows = [
            [r["call_id"], r["started_at"].strftime("%Y-%m-%d %H:%M:%S"), r["queue"], r["agent"],
             _none(r["wait_seconds"]), _none(r["talk_seconds"]), r["result"], " ".join(n for _pk, n in r["cases"])]
            for r in raw
        ]  # fmt: skip
    return header, rows, raw


def formulas() -> dict[str, Any]:
    """Every call report's formula, as shown under the page's table and in its exports."""
    return {**calls.FORMULAS, **calls.FORMULAS_MORE}
