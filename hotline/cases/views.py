"""The staff workbench (HTML). Thin: parse, call one service or selector, render."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from hotline.common import registry
from hotline.common.errors import ServiceError
from hotline.common.http import get_or_404, redirect_back, report_error
from hotline.common.models import DictItem, DictKind
from hotline.common.paging import paginate
from hotline.notify.services import inbox as notify_inbox
from hotline.orgs.http import request_user as _user
from hotline.orgs.models import Role, Unit, UnitKind, User
from hotline.orgs.selectors import unit_search

from . import actions, duplicates, exports, lifecycle, masking, merge, permissions, selectors, services
from .filters import CaseFilterInput
from .forms import IntakeForm
from .lifecycle import Action
from .models import (
    OPEN_ASSIGNMENT_STATUSES,
    Assignment,
    AssignmentRole,
    CallbackResponse,
    CallbackSolution,
    Case,
    CaseStatus,
    Channel,
    CoRequester,
    ExtendedField,
    ExtensionRequest,
    Rating,
)
from .services.contact import may_reveal_phone

S = CaseStatus


def _case_or_404(user: User, pk: int) -> Case:
    return get_or_404(selectors.case_get, user=user, pk=pk)


# --------------------------------------------------------------------------- intake


CALL_ID_RE = re.compile(r"^[A-Za-z0-9._:@-]{1,40}$")


def _call_id(data: Any) -> str:
    """The phone system's call id (`?call_id=`, up to 40 characters like telephony's Call.call_id), kept on the
    case as origin.call_id, which telephony links to its call record; anything else is dropped."""
    value = (data.get("call_id") or "").strip()
    return value if CALL_ID_RE.match(value) else ""


def _intake_context(form: IntakeForm, **extra: Any) -> dict[str, Any]:
    extended = ExtendedField.objects.filter(is_active=True).select_related("bureau", "case_type")
    return {"form": form, "extended_fields": extended, "extra_values": {}, **extra}


@login_required
def case_new(request: HttpRequest) -> HttpResponse:
    """受理登记. A phone system opens it as /cases/new/?citizen_phone=…&call_id=… (number filled, screen pop shown)."""
    user = _user(request)
    call_id = _call_id(request.POST if request.method == "POST" else request.GET)
    initial = {"citizen_phone": request.GET.get("citizen_phone", "").strip()[:20]}
    form = IntakeForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.to_case_input()
        if call_id:
            data = dataclasses.replace(data, origin={"call_id": call_id})
        try:
            result = services.case_intake(
                actor=user,
                data=data,
                action=form.cleaned_data["action"],
                answer=form.cleaned_data["answer"],
                not_accepted_reason=form.cleaned_data["not_accepted_reason"],
                not_accepted_text=form.cleaned_data["not_accepted_text"],
                attachments=request.FILES.getlist("attachments"),
                sms_template=form.cleaned_data["sms_template"],
            )
        except ServiceError as exc:
            _attach_errors(form, exc)
        else:
            case = result.case
            note = _("工单 %(number)s 已%(action)s。") % {
                "number": case.number,
                "action": Action(form.cleaned_data["action"]).label,
            }
            if result.query_password:
                note += _("查询密码：%(password)s（请告知来电人）") % {"password": result.query_password}
            messages.success(request, note)
            return redirect("case-detail", pk=case.pk)
    return render(request, "cases/intake.html", _intake_context(form, call_id=call_id))


def _edit_initial(case: Case) -> dict[str, Any]:
    names = [
        f for f in services.CaseInput.__dataclass_fields__ if f not in {"extra", "origin", "citizen_id_card"}
    ]
    return {name: getattr(case, name) for name in names}


@login_required
def case_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """A draft or a case the office returned, edited in the intake form and saved or submitted again (INT-2)."""
    user = _user(request)
    case = _case_or_404(user, pk)
    if Action.SUBMIT not in lifecycle.allowed_actions(status=case.status, user=user, case=case):
        messages.error(request, _("只有暂存或退回的工单可以修改。"))
        return redirect("case-detail", pk=case.pk)
    form = IntakeForm(request.POST or None, request.FILES or None, initial=_edit_initial(case))
    version = request.POST.get("version", "") if request.method == "POST" else str(case.version)
    if request.method == "POST" and form.is_valid():
        data = dataclasses.replace(form.to_case_input(), origin=case.origin)
        try:
            services.case_rework(
                case=case,
                actor=user,
                expected_version=int(version) if version.isdigit() else -1,
                data=data,
                action=form.cleaned_data["action"],
                answer=form.cleaned_data["answer"],
                not_accepted_reason=form.cleaned_data["not_accepted_reason"],
                not_accepted_text=form.cleaned_data["not_accepted_text"],
                attachments=request.FILES.getlist("attachments"),
            )
        except ServiceError as exc:
            _attach_errors(form, exc)
        else:
            messages.success(
                request,
                _("工单 %(number)s 已%(action)s。")
                % {"number": case.number, "action": Action(form.cleaned_data["action"]).label},
            )
            return redirect("case-detail", pk=case.pk)
    returned = case.events.filter(action=Action.RETURN_TO_AGENT).order_by("-at").first()
    return render(
        request,
        "cases/intake.html",
        _intake_context(
            form,
            editing=case,
            version=version,
            call_id=case.origin.get("call_id", ""),
            extra_values=case.extra if request.method != "POST" else form.extra_values(),
            return_reason=returned.opinion if returned and case.status == S.RETURNED else "",
        ),
    )


def _attach_errors(form: IntakeForm, exc: ServiceError) -> None:
    if not exc.field_errors:
        form.add_error(None, exc.message)
    for field, errors in exc.field_errors.items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)


@login_required
def citizen_lookup(request: HttpRequest) -> HttpResponse:
    """The intake form's caller card: the full screen pop (CIT-5) for the number typed (htmx partial)."""
    from hotline.citizens.views import screen_pop_partial

    return screen_pop_partial(request, request.GET.get("citizen_phone", ""), embedded=True)


# --------------------------------------------------------------------------- duplicates, merge (并单), hot clusters


def _may_merge(user: User) -> bool:
    return permissions.may_merge(user)


@login_required
def duplicate_candidates(request: HttpRequest) -> HttpResponse:
    """INT-5 at intake: candidates of the last 15 days for what the agent has typed so far (htmx partial).
    Editing a draft or returned case, the form passes the case's id as `exclude` (it is no duplicate of itself);
    anything else there is ignored."""
    user = _user(request)
    data = request.POST if request.method == "POST" else request.GET
    content, title = data.get("content", "")[:20000], data.get("title", "")[:100]
    phone, name = data.get("citizen_phone", "").strip()[:20], data.get("citizen_name", "").strip()[:50]
    exclude = data.get("exclude", "").strip()
    if not (content.strip() or phone or name):
        return render(request, "cases/_duplicates.html", {"report": None})
    report = duplicates.find_duplicates(
        user=user,
        content=content,
        title=title,
        phone=phone,
        name=name,
        exclude_case=int(exclude) if exclude.isascii() and exclude.isdigit() and len(exclude) < 19 else None,
    )
    return render(request, "cases/_duplicates.html", {"report": report, "threshold": duplicates.THRESHOLD})


@login_required
def merge_candidates(request: HttpRequest, pk: int) -> HttpResponse:
    """The case page's merge card: this request's duplicate candidates, each a possible target (htmx partial)."""
    user = _user(request)
    case = _case_or_404(user, pk)
    report = duplicates.find_duplicates(
        user=user,
        content=case.content,
        title=case.title,
        phone=case.citizen_phone,
        name=case.citizen_name,
        exclude_case=case.pk,
    )
    return render(
        request,
        "cases/_duplicates.html",
        {
            "report": report,
            "threshold": duplicates.THRESHOLD,
            "merge_from": case,
            "may_merge": Action.MERGE in lifecycle.allowed_actions(status=case.status, user=user, case=case),
            "not_targets": [str(s) for s in merge.NOT_TARGETS],
        },
    )


def _merge_target(user: User, post: Any) -> Case:
    """The target by id (a candidate's button) or by case number (typed), as the user may see it."""
    target = post.get("target", "").strip()
    number = post.get("target_number", "").strip()
    if target.isdigit():
        return selectors.case_get(user=user, pk=int(target))
    found = selectors.case_visible(user=user).filter(number=number).values_list("pk", flat=True).first()
    if not number or found is None:
        raise ServiceError(
            _("请选择或填写要并入的工单编号"), field_errors={"target": [_("未找到该工单或无权查看")]}
        )
    return selectors.case_get(user=user, pk=found)


@login_required
@require_POST
def case_merge(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    case = _case_or_404(user, pk)
    version = request.POST.get("version", "")
    try:
        target = _merge_target(user, request.POST)
        merge.case_merge(
            case=case,
            into=target,
            actor=user,
            expected_version=int(version) if version.isdigit() else None,
            opinion=request.POST.get("opinion", ""),
        )
    except ServiceError as exc:
        report_error(request, exc)
    else:
        messages.success(
            request,
            _("工单 %(number)s 已并入 %(target)s，来电人成为该工单的并单来电人。")
            % {"number": case.number, "target": target.number},
        )
    return redirect_back(request, reverse("case-detail", args=[pk]))


@login_required
@require_POST
def case_unmerge(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    case = _case_or_404(user, pk)
    version = request.POST.get("version", "")
    try:
        merge.case_unmerge(
            case=case,
            actor=user,
            expected_version=int(version) if version.isdigit() else None,
            reason=request.POST.get("reason", ""),
        )
    except ServiceError as exc:
        report_error(request, exc)
    else:
        messages.success(request, _("已撤销并单，工单 %(number)s 恢复办理。") % {"number": case.number})
    return redirect("case-detail", pk=pk)


@login_required
def hot_clusters(request: HttpRequest) -> HttpResponse:
    """Groups of similar open requests of the last N days, each member with a merge button (as the API)."""
    user = _user(request)
    if not permissions.may_see_clusters(user):
        raise PermissionDenied
    days = _bounded(request.GET.get("days"), 7, 1, 60)
    min_size = _bounded(request.GET.get("min_size"), 3, 2, 1000)
    clusters = duplicates.hot_clusters(user=user, days=days, min_size=min_size)
    mergeable = lifecycle.TRANSITIONS[Action.MERGE].sources
    return render(
        request,
        "cases/clusters.html",
        {
            "clusters": clusters,
            "days": days,
            "min_size": min_size,
            "may_merge": _may_merge(user),
            "mergeable": [str(s) for s in mergeable],
            "not_targets": [str(s) for s in merge.NOT_TARGETS],
            "here": request.get_full_path(),
        },
    )


def _bounded(value: str | None, default: int, low: int, high: int) -> int:
    return min(max(int(value), low), high) if value and value.isdigit() else default


# --------------------------------------------------------------------------- case detail and actions


@login_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    case = _case_or_404(user, pk)
    services.case_record_view(case=case, actor=user)
    assignments = list(selectors.case_assignments(case=case))
    mine = [a for a in assignments if a.unit_id == user.unit_id and a.status in OPEN_ASSIGNMENT_STATUSES]
    allowed = set(lifecycle.allowed_actions(status=case.status, user=user, case=case))
    suggested, suggested_reason = services.default_main_unit(case)
    context = {
        "case": case,
        "assignments": assignments,
        "my_assignments": [_assignment_panel(a, assignments, user) for a in mine],
        "events": selectors.case_timeline(case=case),
        "allowed": allowed,
        "office_actions": bool(allowed & OFFICE_PANEL_ACTIONS),
        "stages": lifecycle.STAGES,
        "stage": lifecycle.STAGE_OF_STATUS[case.status],
        "suggested": suggested,
        "suggested_reason": suggested_reason,
        "case_panels": registry.render_case_panels(request, user, case),
        "ratings": Rating.choices,
        "responses": CallbackResponse.choices,
        "solutions": CallbackSolution.choices,
        "pick_units": Unit.objects.filter(is_active=True).exclude(kind=UnitKind.OFFICE).order_by("path"),
        "return_reasons": DictItem.objects.filter(kind=DictKind.RETURN_REASON, is_active=True),
        "not_accepted_reasons": DictItem.objects.filter(kind=DictKind.NOT_ACCEPTED_REASON, is_active=True),
        "pending_return": selectors.pending_return(case=case),
        "pending_extensions": selectors.case_pending_extensions(case=case),
        "related": selectors.citizen_recent_cases(
            user=user,
            phone="" if selectors.citizen_hidden(case, user) else case.citizen_phone,
            exclude=case.pk,
        ),
        "callbacks": case.callbacks.select_related("actor"),
        "clocks": case.clocks.select_related("assignment__unit")
        .prefetch_related("alerts")
        .order_by("started_at", "id"),
        "is_supervision_leader": case.status == S.SPECIAL_SUPERVISION
        and case.main_unit_id == user.unit_id
        and user.has_role(Role.UNIT_LEADER),
        "hide_citizen": selectors.citizen_hidden(case, user),
        "mask_phone": selectors.phone_masked(case, user),
        "may_reveal_phone": may_reveal_phone(case=case, user=user),
        "caller": masking.caller(case, user),
        **_merge_context(case, user, allowed),
    }
    return render(request, "cases/detail.html", context)


def _merge_context(case: Case, user: User, allowed: set[str]) -> dict[str, Any]:
    """并单 on the case page: may this user merge it / undo its merge, where it went, who was merged into it."""
    from .merge_api import _co_output

    co_rows = CoRequester.objects.filter(case=case).select_related("merged_case", "merged_by")
    merged_into = None
    if case.status == S.MERGED:
        merged_into = (
            CoRequester.objects.filter(merged_case=case, undone_at__isnull=True)
            .select_related("case")
            .order_by("-merged_at")
            .first()
        )
    return {
        "may_merge": Action.MERGE in allowed,
        "may_unmerge": Action.UNMERGE in allowed,
        "merged_into": merged_into,
        "co_requesters": [_co_output(co, user) for co in co_rows],
    }


OFFICE_PANEL_ACTIONS = {
    Action.DISPATCH,
    Action.RETURN_TO_AGENT,
    Action.CLOSE_DIRECTLY,
    Action.ASK_LEADER,
    Action.LEADER_INSTRUCT,
    Action.CONFIRM_NOT_ACCEPTED,
    Action.REJECT_NOT_ACCEPTED,
    Action.REVIEW_ACCEPT,
    Action.REVIEW_REJECT,
    Action.REASSIGN,
    Action.APPROVE_RETURN,
    Action.REJECT_RETURN,
    Action.CALLBACK,
    Action.OFFICE_CLOSE,
    Action.SET_CLOSE_MARKS,
    Action.SUBMIT,
    Action.ARCHIVE,
}


def _assignment_panel(assignment: Assignment, all_rows: list[Assignment], user: User) -> dict[str, Any]:
    """What the user's unit can do on its own assignment, and the units it may forward to."""
    children_kinds = services.FORWARDING_KINDS.get(assignment.unit.kind, set())  # type: ignore[call-overload]
    siblings_assisting = [
        a
        for a in all_rows
        if a.parent_id == assignment.parent_id
        and a.round == assignment.round
        and a.role == AssignmentRole.ASSISTING
    ]
    return {
        "row": assignment,
        "can_forward": bool(children_kinds) and assignment.role != AssignmentRole.CC,
        "forward_units": Unit.objects.filter(parent=assignment.unit, is_active=True, kind__in=children_kinds)
        if children_kinds
        else [],
        "is_top_main": assignment.parent_id is None and assignment.role == AssignmentRole.MAIN,
        "assisting": siblings_assisting if assignment.role == AssignmentRole.MAIN else [],
    }


def _payload(post: Any) -> dict[str, Any]:
    """Turn the picker's fields (main_unit, assisting_units, cc_units) into the API's `targets` list."""
    data: dict[str, Any] = {k: v for k, v in post.items() if k not in {"csrfmiddlewaretoken"}}
    targets = []
    if post.get("main_unit"):
        targets.append({"unit": post["main_unit"], "role": AssignmentRole.MAIN})
    for role, field in ((AssignmentRole.ASSISTING, "assisting_units"), (AssignmentRole.CC, "cc_units")):
        targets += [{"unit": value, "role": role} for value in post.getlist(field) if value]
    for field in ("main_unit", "assisting_units", "cc_units"):
        data.pop(field, None)
    if targets or "main_unit" in post:
        data["targets"] = targets
    for flag in ("is_public", "push_hot", "is_typical", "is_perfunctory", "is_wrong"):
        if flag in data:
            data[flag] = data[flag] in {"on", "true", "1"}
    if data.get("due_at") == "":
        data.pop("due_at")
    if data.get("promised_at") == "":
        data.pop("promised_at")
    return data


FIELD_LABELS = {
    "version": gettext_lazy("版本号"),
    "targets": gettext_lazy("交办单位"),
    "rating": gettext_lazy("满意度"),
    "method": gettext_lazy("回访方式"),
    "responded": gettext_lazy("承办单位是否联系"),
    "solution": gettext_lazy("问题是否解决"),
    "reason": gettext_lazy("理由"),
    "text": gettext_lazy("说明"),
    "suggested_unit": gettext_lazy("建议承办单位"),
    "requested_due_at": gettext_lazy("申请延至"),
    "promised_at": gettext_lazy("承诺办结时间"),
    "result": gettext_lazy("办理结果"),
    "opinion": gettext_lazy("意见"),
    "due_at": gettext_lazy("办理时限"),
    "created_from": gettext_lazy("受理时间从"),
    "created_to": gettext_lazy("受理时间至"),
    "status": gettext_lazy("状态"),
    "case_type": gettext_lazy("诉求类型"),
}


def _serializer_errors(errors: Any) -> str:
    parts = []
    for field, messages_ in errors.items() if isinstance(errors, dict) else [("", errors)]:
        flat = messages_ if isinstance(messages_, list) else [messages_]
        text = _("，").join(str(m) for m in flat)
        parts.append(
            _("%(field)s：%(errors)s") % {"field": FIELD_LABELS.get(field, field), "errors": text}
            if field
            else text
        )
    return _("；").join(parts)


def _run(request: HttpRequest, action: actions.CaseAction, target: Any, user: User) -> None:
    serializer = action.input(data=_payload(request.POST))
    if not serializer.is_valid():
        messages.error(request, _("输入有误：") + _serializer_errors(serializer.errors))
        return
    try:
        result = action.perform(target, actor=user, data=serializer.validated_data)
    except ServiceError as exc:
        report_error(request, exc)
        return
    label = request.POST.get("_label") or _("操作")
    note = _("%(label)s成功。") % {"label": label}
    if isinstance(result, dict) and result.get("query_password"):
        note += _("新的查询密码：%(password)s") % {"password": result["query_password"]}
    if isinstance(result, dict) and result.get("code_sent_to"):
        note += _("验证码已发送至 %(address)s，请来电人在网站“找回查询密码”页面自行设置新密码。") % {
            "address": result["code_sent_to"]
        }
    messages.success(request, note)


@login_required
@require_POST
def case_act(request: HttpRequest, pk: int, slug: str) -> HttpResponse:
    user = _user(request)
    action = actions.CASE_ACTIONS.get(slug)
    if action is None:
        raise Http404
    case = _case_or_404(user, pk)
    _run(request, action, case, user)
    return redirect("case-detail", pk=pk)


@login_required
@require_POST
def assignment_act(request: HttpRequest, pk: int, slug: str) -> HttpResponse:
    user = _user(request)
    action = actions.ASSIGNMENT_ACTIONS.get(slug)
    if action is None:
        raise Http404
    assignment = get_or_404(selectors.assignment_get, user=user, pk=pk)
    _run(request, action, assignment, user)
    return redirect("case-detail", pk=assignment.case_id)


@login_required
@require_POST
def extension_decide(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    extension = ExtensionRequest.objects.select_related("assignment").filter(pk=pk).first()
    if (
        extension is None
        or not selectors.case_visible(user=user).filter(pk=extension.assignment.case_id).exists()
    ):
        raise Http404
    try:
        services.extension_decide(
            request=extension,
            actor=user,
            expected_version=None,
            approve=request.POST.get("approve") == "1",
            note=request.POST.get("note", ""),
        )
        messages.success(request, _("延期申请已审核。"))
    except ServiceError as exc:
        report_error(request, exc)
    return redirect("case-detail", pk=extension.assignment.case_id)


# --------------------------------------------------------------------------- units picker


@login_required
def unit_options(request: HttpRequest) -> HttpResponse:
    """Options for the unit picker, searched by name or pinyin initials (htmx partial)."""
    query = request.GET.get("q", "").strip()
    parent = request.GET.get("parent", "")
    units: QuerySet[Unit] = unit_search(query=query).exclude(kind=UnitKind.OFFICE)
    if parent.isdigit():
        units = units.filter(parent_id=int(parent))
    return render(
        request,
        "cases/_unit_options.html",
        {"units": units[:200], "selected": request.GET.get("selected", "")},
    )


# --------------------------------------------------------------------------- search, board, notices


PRINT_LIMIT = 5000  # search prints every matching row up to this many


@login_required
def case_search(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    params = request.GET.copy()
    for key in [k for k, v in params.items() if v == ""]:
        params.pop(key)
    for key in ("status", "not_status"):
        if key in params:
            params.setlist(key, [v for item in params.getlist(key) for v in item.split(",") if v])
    for key in ("created_from", "created_to"):
        if key in params and len(params[key]) == 10:  # a date picker sends YYYY-MM-DD
            params[key] = f"{params.get(key)}T00:00:00+08:00"
    filters = CaseFilterInput(data=params)
    if not filters.is_valid():
        messages.error(request, _("查询条件有误：") + _serializer_errors(filters.errors))
        qs = Case.objects.none()
    else:
        qs = selectors.case_search(user=user, filters=filters.to_filters())
    if request.GET.get("export") == "xlsx":
        shown = {k: v for k, v in request.GET.items() if k != "export"}
        return exports.cases_xlsx(qs, user=user, filters=shown)
    query_without_page = request.GET.copy()
    query_without_page.pop("page", None)
    if request.GET.get("print") == "1":
        total = qs.count()
        return render(
            request,
            "cases/search_print.html",
            {"cases": qs[:PRINT_LIMIT], "total": total, "limit": PRINT_LIMIT, "printed_at": timezone.now()},
        )
    query_without_page.pop("print", None)
    page = paginate(request, qs)
    return render(
        request,
        "cases/search.html",
        {
            "page": page,
            "params": request.GET,
            "query": query_without_page.urlencode(),
            "statuses": CaseStatus.choices,
            "case_types": DictItem.objects.filter(kind=DictKind.CASE_TYPE, is_active=True),
            "districts": Unit.objects.filter(kind=UnitKind.DISTRICT).order_by("sort_order", "id"),
            "units": Unit.objects.exclude(kind=UnitKind.OFFICE).order_by("path"),
            "processing": lifecycle.Processing.choices,
            "supervision": lifecycle.Supervision.choices,
            "channel_choices": Channel.choices,
            "sortable": [
                ("-created_at", _("受理时间（新→旧）")),
                ("created_at", _("受理时间（旧→新）")),
                ("-urgency", _("紧急程度")),
                ("case_type", _("诉求类型")),
                ("status", _("状态")),
            ],
        },
    )


@login_required
def board(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    rows = selectors.open_board(user=user)
    statuses = list(selectors.OPEN_STATUSES)
    matrix: dict[str, dict[str, int]] = {}
    for row in rows:
        matrix.setdefault(row["main_unit__name"] or _("（未派单）"), {})[row["status"]] = row["n"]
    ordered = sorted(matrix.items(), key=lambda item: -sum(item[1].values()))
    cells = {unit: [counts.get(s, 0) for s in statuses] for unit, counts in ordered}
    table = [{"unit": unit, "cells": row, "total": sum(row)} for unit, row in cells.items()]
    totals = [sum(row[i] for row in cells.values()) for i in range(len(statuses))]
    return render(
        request,
        "cases/board.html",
        {
            "statuses": [(s, CaseStatus(s).label) for s in statuses],
            "table": table,
            "totals": totals,
            "grand_total": sum(totals),
        },
    )


@login_required
def notices(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    counts = selectors.notices(user=user)
    inbox = list(notify_inbox(user=user)[:5])
    return render(
        request,
        "cases/_notices.html",
        {"counts": counts, "inbox": inbox, "total": sum(counts.values()) + len(inbox), "now": timezone.now()},
    )
