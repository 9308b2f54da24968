"""Every write on flow templates, and the hook through which the case lifecycle consults them (FLW-1..3).

Lifecycle of a version: draft → review → published (review may send it back to draft); published versions never
change (new work goes into a new draft, copied from the newest). Pause / resume / retire act on the template:
a paused or retired template is not chosen for new cases; cases already on it keep their version (FLW-3).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from collections.abc import Callable, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from hotline.cases import flowhooks
from hotline.cases.lifecycle import TRANSITIONS, Action, Transition
from hotline.cases.models import AssignmentRole, Case, Channel
from hotline.cases.selectors import DICT_ITEMS
from hotline.common import clock
from hotline.common.audit import audit_record
from hotline.common.errors import NotAllowed, ServiceError
from hotline.common.refcache import RefCache
from hotline.orgs.models import Role, User
from hotline.orgs.selectors import UNITS

from . import definition, guards, parallel
from .definition import FORMAT, FlowDef, StepDef, TransitionDef
from .models import (
    CaseFlow,
    FlowStep,
    FlowTemplate,
    FlowTransition,
    FlowVersion,
    StepKind,
    TemplateStatus,
    UnitLevel,
    VersionStatus,
)
from .permissions import require_manage

TEMPLATE_FIELDS = (
    "name",
    "description",
    "case_types",
    "bureaus",
    "channels",
    "valid_from",
    "valid_to",
    "priority",
)


def _fail(field: str, message: str) -> ServiceError:
    return ServiceError(message, field_errors={field: [message]})


def _problems_error(problems: list[definition.Problem]) -> ServiceError:
    messages = [str(p) for p in problems]
    return ServiceError(
        _("流程定义有 %(n)d 处问题：%(first)s") % {"n": len(messages), "first": messages[0]},
        field_errors={"definition": messages},
        code="invalid_flow",
    )


# --------------------------------------------------------------------------- templates


def _clean_rules(values: dict[str, Any]) -> dict[str, Any]:
    """Selection rules and validity: unknown codes are refused with a field error."""
    out = {k: values[k] for k in TEMPLATE_FIELDS if k in values}
    name = str(out.get("name", "")).strip()
    if "name" in out:
        if not name or len(name) > 100:
            raise _fail("name", _("请填写模板名称（不超过100字）"))
        out["name"] = name
    for key in ("case_types", "bureaus", "channels"):
        if key in out:
            items = out[key] or []
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise _fail(key, _("必须是编码列表"))
            out[key] = sorted(set(items))
    for code in out.get("case_types", []):
        if DICT_ITEMS.get_by(kind="case_type", code=code) is None:
            raise _fail("case_types", _("未知的诉求类型编码“%(code)s”") % {"code": code})
    for code in out.get("bureaus", []):
        if UNITS.get_by(code=code) is None:
            raise _fail("bureaus", _("未知的单位编码“%(code)s”") % {"code": code})
    for code in out.get("channels", []):
        if code not in Channel.values:
            raise _fail("channels", _("未知的渠道“%(code)s”") % {"code": code})
    valid_from, valid_to = out.get("valid_from"), out.get("valid_to")
    if valid_from and valid_to and valid_to < valid_from:
        raise _fail("valid_to", _("失效日期不能早于生效日期"))
    if "priority" in out:
        try:
            out["priority"] = int(out["priority"] or 0)
        except (TypeError, ValueError):
            raise _fail("priority", _("优先级必须是整数")) from None
    return out


def template_create(*, actor: User, code: str, **values: Any) -> FlowTemplate:
    """A new template with an empty first draft."""
    require_manage(actor)
    code = (code or "").strip()
    if not code or len(code) > 40 or not all(c.isascii() and (c.isalnum() or c in "-_") for c in code):
        raise _fail("code", _("模板编号只能由字母、数字、- 和 _ 组成（不超过40位）"))
    rules = _clean_rules({"name": values.pop("name", ""), **values})
    with transaction.atomic():
        if FlowTemplate.objects.filter(code=code).exists():
            raise _fail("code", _("模板编号已存在"))
        template = FlowTemplate.objects.create(code=code, created_by=actor, created_at=clock.now(), **rules)
        FlowVersion.objects.create(template=template, number=1, created_by=actor, created_at=clock.now())
        audit_record(actor=actor, action="create", obj=template, summary=f"流程模板 {template}")
    return template


def template_update(*, actor: User, template: FlowTemplate, **values: Any) -> FlowTemplate:
    """Name, selection rules, validity and priority (they decide only which new cases take the template)."""
    require_manage(actor)
    if template.status == TemplateStatus.RETIRED:
        raise ServiceError(_("已报废的模板不能修改"))
    rules = _clean_rules(values)
    with transaction.atomic():
        for key, value in rules.items():
            setattr(template, key, value)
        template.save()
        changes = {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in rules.items()}
        audit_record(
            actor=actor, action="update", obj=template, summary=f"流程模板 {template}", changes=changes
        )
    return template


_STATUS_MOVES = {
    "pause": ({TemplateStatus.ACTIVE}, TemplateStatus.PAUSED, "暂停"),
    "resume": ({TemplateStatus.PAUSED}, TemplateStatus.ACTIVE, "恢复"),
    "retire": ({TemplateStatus.ACTIVE, TemplateStatus.PAUSED}, TemplateStatus.RETIRED, "报废"),
}


def template_set_status(*, actor: User, template: FlowTemplate, move: str) -> FlowTemplate:
    """Pause, resume or retire a template (retired is final)."""
    require_manage(actor)
    if move not in _STATUS_MOVES:
        raise _fail("move", _("未知的操作"))
    sources, target, label = _STATUS_MOVES[move]
    with transaction.atomic():
        template = FlowTemplate.objects.select_for_update().get(pk=template.pk)
        if template.status not in sources:
            raise ServiceError(
                _("模板当前为“%(status)s”，不能%(move)s")
                % {"status": template.get_status_display(), "move": label}
            )
        template.status = target
        template.save(update_fields=["status", "updated_at"])
        audit_record(actor=actor, action="update", obj=template, summary=f"流程模板{label} {template}")
    return template


# --------------------------------------------------------------------------- versions


def _open_version(template: FlowTemplate) -> FlowVersion | None:
    return template.versions.exclude(status=VersionStatus.PUBLISHED).order_by("-number").first()


def version_new_draft(*, actor: User, template: FlowTemplate) -> FlowVersion:
    """A new draft, copied from the newest published version; one draft (or version in review) at a time."""
    require_manage(actor)
    if template.status == TemplateStatus.RETIRED:
        raise ServiceError(_("已报废的模板不能新建版本"))
    with transaction.atomic():
        FlowTemplate.objects.select_for_update().get(pk=template.pk)
        if _open_version(template) is not None:
            raise ServiceError(_("该模板已有未发布的版本，请先完成它"))
        newest = template.versions.filter(status=VersionStatus.PUBLISHED).order_by("-number").first()
        number = (template.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        version = FlowVersion.objects.create(
            template=template, number=number, created_by=actor, created_at=clock.now()
        )
        if newest is not None:
            _write_definition(version, definition.from_version(newest))
        audit_record(actor=actor, action="create", obj=version, summary=f"流程模板新版本 {version}")
    return version


def _write_definition(version: FlowVersion, flow: FlowDef) -> None:
    version.transitions.all().delete()
    version.steps.all().delete()
    steps = {}
    for order, s in enumerate(flow.steps):
        steps[s.code] = FlowStep.objects.create(
            version=version,
            code=s.code,
            name=s.name,
            kind=s.kind,
            statuses=list(s.statuses),
            roles=list(s.roles),
            unit_level=s.unit_level,
            limit_amount=s.limit_amount,
            limit_unit=s.limit_unit,
            dispatch_mode=s.dispatch_mode,
            sequence=list(s.sequence),
            order=order,
        )
    for order, t in enumerate(flow.transitions):
        FlowTransition.objects.create(
            version=version,
            source=steps[t.source],
            target=steps[t.target],
            action=t.action,
            label=t.label,
            guard=t.guard,
            order=order,
        )


def version_save_definition(*, actor: User, version: FlowVersion, flow: FlowDef) -> FlowVersion:
    """Replace a draft's steps and transitions (the editor, an import). Each row must be valid (codes, references,
    roles, statuses, guards); whether the graph is complete is judged when it is sent for review."""
    require_manage(actor)
    problems = definition.row_problems(flow)
    if problems:
        raise _problems_error(problems)
    with transaction.atomic():
        version = FlowVersion.objects.select_for_update().get(pk=version.pk)
        if not version.is_editable:
            raise ServiceError(
                _("版本状态为“%(status)s”，只有拟稿中的版本可以修改")
                % {"status": version.get_status_display()},
                code="frozen",
            )
        _write_definition(version, flow)
        audit_record(
            actor=actor,
            action="update",
            obj=version,
            summary=f"流程定义 {version}：{len(flow.steps)} 个环节，{len(flow.transitions)} 条流向",
        )
    return version


def _move_version(
    *, actor: User, version: FlowVersion, source: str, target: str, label: str, note: str = ""
) -> FlowVersion:
    require_manage(actor)
    with transaction.atomic():
        version = FlowVersion.objects.select_for_update().select_related("template").get(pk=version.pk)
        if version.status != source:
            raise ServiceError(
                _("版本当前为“%(status)s”，不能%(label)s")
                % {"status": version.get_status_display(), "label": label},
                code="bad_status",
            )
        if target in (VersionStatus.REVIEW, VersionStatus.PUBLISHED):
            flow = definition.from_version(version)
            problems = definition.validate(flow)
            if problems:
                raise _problems_error(problems)
        now = clock.now()
        version.status = target
        fields = ["status"]
        if target == VersionStatus.REVIEW:
            version.submitted_at, version.review_note = now, ""
            fields += ["submitted_at", "review_note"]
        elif target == VersionStatus.DRAFT:
            version.review_note = note[:200]
            fields += ["review_note"]
        else:
            if version.template.status == TemplateStatus.RETIRED:
                raise ServiceError(_("已报废的模板不能发布版本"))
            version.published_at, version.published_by = now, actor
            version.digest = digest(flow)
            fields += ["published_at", "published_by", "digest"]
        version.save(update_fields=fields)
        audit_record(actor=actor, action="update", obj=version, summary=f"流程版本{label} {version}")
    return version


def version_submit(*, actor: User, version: FlowVersion) -> FlowVersion:
    """Draft → review: only a complete graph (no unreachable step, no dead end, every split joined)."""
    return _move_version(
        actor=actor,
        version=version,
        source=VersionStatus.DRAFT,
        target=VersionStatus.REVIEW,
        label="提交审核",
    )


def version_reject(*, actor: User, version: FlowVersion, note: str = "") -> FlowVersion:
    return _move_version(
        actor=actor,
        version=version,
        source=VersionStatus.REVIEW,
        target=VersionStatus.DRAFT,
        label="退回拟稿",
        note=note,
    )


def version_publish(*, actor: User, version: FlowVersion) -> FlowVersion:
    """Review → published (checked again); from now on the version never changes and new cases take it."""
    return _move_version(
        actor=actor,
        version=version,
        source=VersionStatus.REVIEW,
        target=VersionStatus.PUBLISHED,
        label="发布",
    )


def digest(flow: FlowDef) -> str:
    return hashlib.sha256(json.dumps(flow.as_json(), sort_keys=True, ensure_ascii=False).encode()).hexdigest()


# --------------------------------------------------------------------------- import / export


def version_export(version: FlowVersion) -> dict[str, Any]:
    template = version.template
    return {
        "format": FORMAT,
        "template": {
            "code": template.code,
            "name": template.name,
            "description": template.description,
            "case_types": list(template.case_types),
            "bureaus": list(template.bureaus),
            "channels": list(template.channels),
            "valid_from": template.valid_from.isoformat() if template.valid_from else None,
            "valid_to": template.valid_to.isoformat() if template.valid_to else None,
            "priority": template.priority,
        },
        "version": {"number": version.number, "status": version.status, "note": version.note},
        **definition.from_version(version).as_json(),
    }


def _date(value: Any, field: str) -> dt.date | None:
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise _fail(field, _("日期格式应为 YYYY-MM-DD")) from None


def template_import(*, actor: User, data: Any) -> FlowVersion:
    """A JSON export read back: a new template (unknown code) or a new draft of the template with that code.
    Nothing is half-saved: a wrong shape or an invalid row refuses the whole import."""
    require_manage(actor)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise _fail("format", _("不是流程模板导出文件（format 应为 %(f)s）") % {"f": FORMAT})
    meta = data.get("template")
    if not isinstance(meta, dict):
        raise _fail("template", _("缺少模板信息"))
    try:
        flow = definition.from_json(data)
    except definition.FormatError as error:
        raise _fail("definition", str(error)) from None
    values = {k: meta[k] for k in TEMPLATE_FIELDS if k in meta}
    values["valid_from"] = _date(meta.get("valid_from"), "valid_from")
    values["valid_to"] = _date(meta.get("valid_to"), "valid_to")
    if not isinstance(values.get("description", ""), str):
        raise _fail("description", _("说明必须是文本"))
    with transaction.atomic():
        template = FlowTemplate.objects.filter(code=str(meta.get("code", ""))).first()
        if template is None:
            template = template_create(actor=actor, code=str(meta.get("code", "")), **values)
            version = template.versions.get()
        else:
            template_update(actor=actor, template=template, **values)
            version = version_new_draft(actor=actor, template=template)
        version_save_definition(actor=actor, version=version, flow=flow)
    return version


# --------------------------------------------------------------------------- which version a new case takes


def _matches(template: FlowTemplate, case: Case, today: dt.date) -> bool:
    if template.valid_from and today < template.valid_from:
        return False
    if template.valid_to and today > template.valid_to:
        return False
    if template.channels and case.channel not in template.channels:
        return False
    if template.case_types:
        item = DICT_ITEMS.get(case.case_type_id)
        if item is None or item.code not in template.case_types:
            return False
    if template.bureaus:
        bureau = UNITS.get(case.bureau_id)
        if bureau is None or bureau.code not in template.bureaus:
            return False
    return True


def _specificity(template: FlowTemplate) -> int:
    return sum(1 for rule in (template.case_types, template.bureaus, template.channels) if rule)


# Templates and versions are few and read by every intake: cached per process (refreshed when one is saved here,
# within a minute when another process publishes or pauses one).
TEMPLATES = RefCache(FlowTemplate)
VERSIONS = RefCache(FlowVersion)


def version_for_new_case(case: Case) -> FlowVersion | None:
    """The newest published version of the active template that fits `case` today (highest priority first,
    then the most specific rules, then the newest template)."""
    today = clock.now().astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    newest: dict[int, FlowVersion] = {}
    for version in VERSIONS.all():
        if version.status != VersionStatus.PUBLISHED:
            continue
        known = newest.get(version.template_id)
        if known is None or version.number > known.number:
            newest[version.template_id] = version
    fitting: list[tuple[FlowTemplate, FlowVersion]] = []
    for template_id, version in newest.items():
        template = TEMPLATES.get(template_id)
        if (
            template is not None
            and template.status == TemplateStatus.ACTIVE
            and _matches(template, case, today)
        ):
            fitting.append((template, version))
    if not fitting:
        return None
    template, version = max(fitting, key=lambda tv: (tv[0].priority, _specificity(tv[0]), tv[0].pk))
    version.template = template
    return version


def case_pin(case: Case) -> None:
    """Pin a new case to the version it follows to its end (FLW-3). Runs inside the case's creating transaction:
    one insert, and the lifecycle's next check takes the definition from here instead of reading the pin back (no
    other transaction can have pinned a case this one is creating)."""
    version = version_for_new_case(case)
    if version is None:
        case.__dict__["_flow_def"] = None  # known now: the clocks of its first transition ask for no query
        return
    CaseFlow.objects.bulk_create(
        [CaseFlow(case=case, version=version, pinned_at=clock.now())], ignore_conflicts=True
    )
    case.__dict__["_flow_def"] = _definition(version.pk, version.digest, lambda: version)


# --------------------------------------------------------------------------- consulted by the lifecycle

_CACHE: dict[tuple[int, str], FlowDef] = {}
_CACHE_LOCK = threading.Lock()


def case_flow(case: Case) -> FlowDef | None:
    """The definition `case` follows (None: the backbone alone). Published definitions are cached per
    (version, digest): they never change."""
    if "_flow_def" in case.__dict__:
        cached: FlowDef | None = case.__dict__["_flow_def"]
        return cached
    row = CaseFlow.objects.filter(case_id=case.pk).values_list("version_id", "version__digest").first()
    flow = None
    if row is not None:
        version_id = row[0]
        flow = _definition(
            version_id, row[1], lambda: FlowVersion.objects.select_related("template").get(pk=version_id)
        )
    case.__dict__["_flow_def"] = flow  # for the rest of this request's checks on the same object
    return flow


def _definition(version_id: int, digest: str, load: Callable[[], FlowVersion]) -> FlowDef:
    key = (version_id, digest)
    flow = _CACHE.get(key)
    if flow is None:
        flow = definition.from_version(load())
        with _CACHE_LOCK:
            if len(_CACHE) > 500:
                _CACHE.clear()
            _CACHE[key] = flow
    return flow


def guard_context(case: Case, user: User | None) -> dict[str, dict[str, Any]]:
    def code(item_id: int | None) -> str | None:
        item = DICT_ITEMS.get(item_id)
        return item.code if item is not None else None

    urgency = DICT_ITEMS.get(case.urgency_id)
    bureau, district = UNITS.get(case.bureau_id), UNITS.get(case.district_id)
    unit = UNITS.get(user.unit_id) if user is not None and user.unit_id else None
    return {
        "case": {
            "type": code(case.case_type_id),
            "urgency": urgency.code if urgency is not None else None,
            "urgency_rank": urgency.rank if urgency is not None else 0,
            "nature": code(case.nature_id),
            "channel": case.channel,
            "bureau": bureau.code if bureau is not None else None,
            "district": district.code if district is not None else None,
            "status": case.status,
            "dispatch_round": case.dispatch_round,
            "dissatisfied_count": case.dissatisfied_count,
            "has_attachments": case.attachments.exists() if case.pk else False,
        },
        "user": {
            "roles": sorted(user.role_set) if user is not None else [],
            "unit_kind": unit.kind if unit is not None else None,
            "in_office": bool(user is not None and user.in_office),
        },
    }


def _acts(step: StepDef, user: User) -> bool:
    if step.roles and not (user.is_superuser or user.role_set.intersection(step.roles)):
        return False
    if step.unit_level:
        unit = UNITS.get(user.unit_id) if user.unit_id else None
        return user.is_superuser or (unit is not None and unit.kind == step.unit_level)
    return True


def _candidates(flow: FlowDef, status: str, action: str) -> list[tuple[StepDef, TransitionDef]]:
    return [
        (step, t) for step in flow.steps_at(status) for t in flow.outgoing(step.code) if t.action == action
    ]


def _holds(t: TransitionDef, context: dict[str, dict[str, Any]]) -> bool:
    try:
        return guards.evaluate(t.guard, context)
    except guards.GuardError:
        return False  # published guards parse; a failure to judge refuses rather than lets through


# The actions that move a case between steps: a template rules them all (an action it never names is refused);
# the others (handling records, urging, marks, merging, drafts) stay as the backbone says.
STEP_ACTIONS = frozenset(a for a, t in TRANSITIONS.items() if t.targets()) - {
    Action.SAVE_DRAFT,
    Action.MERGE,
    Action.UNMERGE,
}


def governed(flow: FlowDef) -> frozenset[str]:
    return STEP_ACTIONS | flow.governed_actions()


def flow_check(
    action: str, *, case: Case, user: User, status: str, transition: Transition, target: str | None = None
) -> None:
    """Refuse what the case's template does not allow at its current step: a step action (or one the template
    names) with no flow out of this step, taken by someone the step does not name, whose guards all fail, or —
    when the action moves the case on (`target`) — that leaves a parallel step before every unit / branch has
    finished (`parallel`)."""
    flow = case_flow(case)
    if flow is None or action not in governed(flow):
        return
    label = Action(action).label
    steps = flow.steps_at(status)
    candidates = _candidates(flow, status, action)
    if not candidates:
        where = "、".join(s.name for s in steps) or _("（模板未定义此状态）")
        raise ServiceError(
            _("流程模板“%(flow)s”在当前环节“%(step)s”不允许“%(action)s”")
            % {"flow": flow.name, "step": where, "action": label},
            code="flow_refused",
        )
    acting = [(s, t) for s, t in candidates if _acts(s, user)]
    if not acting:
        raise NotAllowed(
            _("流程模板“%(flow)s”规定环节“%(step)s”由%(who)s办理")
            % {"flow": flow.name, "step": candidates[0][0].name, "who": _who(candidates[0][0])}
        )
    # An unguarded flow admits it (the context, which may cost a query, is not built).
    admitted = [(s, t) for s, t in acting if not t.guard]
    if not admitted:
        context = guard_context(case, user)
        admitted = [(s, t) for s, t in acting if _holds(t, context)]
    if not admitted:
        guard = next(t.guard for _s, t in acting if t.guard)
        raise ServiceError(
            _("流程模板“%(flow)s”的控制条件不满足，不能“%(action)s”：%(guard)s")
            % {"flow": flow.name, "action": label, "guard": guard},
            code="flow_guard",
        )
    if target is None or target == status:
        return  # the case stays where it is: no parallel step is left
    refusal = None
    for step, t in admitted:
        refusal = parallel.join_refusal(flow, case, step, t, status=status, user=user)
        if refusal is None:
            return
    raise ServiceError(refusal or "", code="flow_parallel")


def flow_step(case: Case, status: str, *, unit_kind: str = "") -> flowhooks.StepInfo | None:
    """The step a case in `status` is at in its template (of parallel branches, the one of `unit_kind`'s level,
    else one open to every level, else the first); None without a template or a step for the status."""
    flow = case_flow(case)
    if flow is None:
        return None
    steps = flow.steps_at(status)
    if not steps:
        return None
    step = steps[0]
    if unit_kind and len(steps) > 1:
        step = next((s for s in steps if s.unit_level == unit_kind), None) or next(
            (s for s in steps if not s.unit_level), steps[0]
        )
    return flowhooks.StepInfo(
        code=step.code,
        name=step.name,
        limit_amount=step.limit_amount,
        limit_unit=step.limit_unit,
        dispatch_mode=step.dispatch_mode,
    )


def flow_units(case: Case, status: str, units: Sequence[tuple[str, str]]) -> list[int] | None:
    """`flowhooks.units`: the units of a dispatch (each `(unit kind, role)`) judged against the unit step(s) the
    case enters in `status` — a single step takes exactly one acting unit (copies do not act), a serial step
    orders its units by the template's order of unit levels with the main unit last (it collects the others'
    opinions and reports for all, as the backbone already requires). Of parallel branches, each unit belongs to
    the branch of its level."""
    flow = case_flow(case)
    if flow is None:
        return None
    steps = [s for s in flow.steps_at(status) if s.is_unit_step]
    if not steps:
        return None
    mine: dict[str, list[int]] = {s.code: [] for s in steps}
    for i, (kind, role) in enumerate(units):
        if role == AssignmentRole.CC:
            continue
        step = steps[0] if len(steps) == 1 else parallel.branch_for(steps, kind)
        if step is not None:
            mine[step.code].append(i)
    order: list[int] | None = None
    for step in steps:
        if step.kind == StepKind.SINGLE and len(mine[step.code]) > 1:
            raise ServiceError(
                _("流程模板“%(flow)s”规定环节“%(step)s”只由一个单位办理，不能同时交办%(count)d个单位")
                % {"flow": flow.name, "step": step.name, "count": len(mine[step.code])},
                code="flow_single",
            )
        if step.kind == StepKind.SERIAL:
            order = _serial_order(flow, step, units, mine[step.code])
    return order


def _serial_order(
    flow: FlowDef, step: StepDef, units: Sequence[tuple[str, str]], mine: list[int]
) -> list[int]:
    stray = next((i for i in mine if units[i][0] not in step.sequence), None)
    if stray is not None:
        kind = units[stray][0]
        raise ServiceError(
            _("流程模板“%(flow)s”的串行环节“%(step)s”依次由%(order)s办理，不能交办给%(level)s单位")
            % {
                "flow": flow.name,
                "step": step.name,
                "order": step.sequence_label,
                "level": UnitLevel(kind).label if kind in UnitLevel.values else kind,
            },
            code="flow_serial",
        )

    def rank(i: int) -> int:
        return step.sequence.index(units[i][0])

    main = next((i for i in mine if units[i][1] == AssignmentRole.MAIN), None)
    if main is not None and any(rank(i) > rank(main) for i in mine):
        raise ServiceError(
            _(
                "流程模板“%(flow)s”的串行环节“%(step)s”依次由%(order)s办理，主办单位最后办理并上报，须是顺序中最后一级的单位"
            )
            % {"flow": flow.name, "step": step.name, "order": step.sequence_label},
            code="flow_serial",
        )
    return sorted(mine, key=lambda i: (i == main, rank(i), i))


def _who(step: StepDef) -> str:
    roles = "、".join(str(Role(r).label) for r in step.roles) or _("任意角色")
    level = str(UnitLevel(step.unit_level).label) if step.unit_level else ""
    return f"{level}{roles}"


def flow_narrow(case: Case, user: User, actions: list[str]) -> list[str]:
    """The backbone's allowed actions that the template admits now, in the template's order (then the rest)."""
    flow = case_flow(case)
    if flow is None:
        return actions
    ruled = governed(flow)
    order: list[str] = []
    context: dict[str, dict[str, Any]] | None = None
    for step in flow.steps_at(case.status):
        if not _acts(step, user):
            continue
        for t in flow.outgoing(step.code):
            if t.action not in actions or t.action in order:
                continue
            if t.guard:
                context = context or guard_context(case, user)
                if not _holds(t, context):
                    continue
            order.append(t.action)
    return order + [a for a in actions if a not in ruled and a not in order]


class FlowHook:
    """What `cases.flowhooks` calls (registered in FlowsConfig.ready())."""

    def pin(self, case: Case) -> None:
        case_pin(case)

    def check(
        self,
        action: str,
        *,
        case: Case,
        user: User,
        status: str,
        transition: Transition,
        target: str | None = None,
    ) -> None:
        flow_check(action, case=case, user=user, status=status, transition=transition, target=target)

    def narrow(self, case: Case, user: User, actions: list[str]) -> list[str]:
        return flow_narrow(case, user, actions)

    def units(self, case: Case, status: str, units: Sequence[tuple[str, str]]) -> list[int] | None:
        return flow_units(case, status, units)

    def step(self, case: Case, status: str, *, unit_kind: str = "") -> flowhooks.StepInfo | None:
        return flow_step(case, status, unit_kind=unit_kind)
