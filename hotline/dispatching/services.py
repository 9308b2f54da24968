"""Every write of the dispatching package: the catalogue, its xlsx import, the office's settings, suggestions and
their outcomes, and training a model version. Keyword-only, one transaction each, audited."""

from __future__ import annotations

import datetime as dt
import io
import logging
import threading
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from hotline.cases import flowhooks
from hotline.cases.models import Case, CaseStatus
from hotline.common import clock
from hotline.common.audit import audit_record
from hotline.common.errors import ServiceError
from hotline.orgs.models import Role, Unit, UnitKind, User

from . import rules, selectors
from .models import (
    MAX_LEVEL,
    CatalogueImport,
    DispatchMode,
    DispatchSettings,
    LocationRule,
    Matter,
    ModelVersion,
    Outcome,
    Suggestion,
    SuggestionSource,
)
from .permissions import require_manage

logger = logging.getLogger(__name__)

MAX_IMPORT_ROWS = 50_000
MIN_TRAINING_CASES = 30
HELD_BACK_SHARE = 0.2
OVERRIDE_WEIGHT = 2.0


def _fail(field_name: str, message: str) -> ServiceError:
    return ServiceError(message, field_errors={field_name: [message]})


# --------------------------------------------------------------------------- catalogue


def _check_unit(unit: Unit | None) -> None:
    if unit is None:
        return
    if not unit.is_active:
        raise _fail("unit", f"{unit.name}已撤销")
    if unit.kind == UnitKind.OFFICE:
        raise _fail("unit", "承办单位不能是热线办")


def _clean_matter(
    *, name: str, parent: Matter | None, unit: Unit | None, location_rule: str, matter: Matter | None = None
) -> str:
    name = (name or "").strip()
    if not name:
        raise _fail("name", "请填写事项名称")
    if len(name) > 200:
        raise _fail("name", "事项名称不能超过200字")
    if location_rule not in LocationRule.values:
        raise _fail("location_rule", "属地规则无效")
    if parent is not None and parent.level >= MAX_LEVEL:
        raise _fail("parent", f"事项最多{MAX_LEVEL}级")
    node = parent
    while node is not None and matter is not None:
        if node.pk == matter.pk:
            raise _fail("parent", "不能把事项移到它自己的下级")
        node = node.parent
    _check_unit(unit)
    if location_rule == LocationRule.UNIT and unit is None and parent is None and matter is None:
        pass  # a first-level grouping node without its own unit is allowed
    siblings = Matter.objects.filter(parent=parent, name=name)
    if matter is not None:
        siblings = siblings.exclude(pk=matter.pk)
    if siblings.exists():
        raise _fail("name", "同一上级下已有同名事项")
    return name


def matter_create(
    *,
    actor: User,
    name: str,
    parent: Matter | None = None,
    unit: Unit | None = None,
    location_rule: str = LocationRule.UNIT,
    keywords: str = "",
    examples: str = "",
) -> Matter:
    require_manage(actor)
    name = _clean_matter(name=name, parent=parent, unit=unit, location_rule=location_rule)
    with transaction.atomic():
        matter = Matter.objects.create(
            name=name,
            parent=parent,
            level=(parent.level + 1) if parent else 1,
            unit=unit,
            location_rule=location_rule,
            keywords=", ".join(rules.split_keywords(keywords)),
            examples=(examples or "").strip(),
        )
        audit_record(
            actor=actor, action="create", obj=matter, summary=f"新增派单目录事项：{matter.path_name}"
        )
    return matter


def matter_update(
    *,
    actor: User,
    matter: Matter,
    name: str,
    parent: Matter | None,
    unit: Unit | None,
    location_rule: str,
    keywords: str,
    examples: str,
    is_active: bool,
) -> Matter:
    require_manage(actor)
    name = _clean_matter(name=name, parent=parent, unit=unit, location_rule=location_rule, matter=matter)
    if parent is not None and matter.children.exists() and parent.level + 1 + _height(matter) > MAX_LEVEL:
        raise _fail("parent", f"事项最多{MAX_LEVEL}级")
    with transaction.atomic():
        before = {
            "name": matter.name,
            "unit": matter.unit_id,
            "rule": matter.location_rule,
            "kw": matter.keywords,
        }
        matter.name, matter.parent, matter.unit = name, parent, unit
        matter.location_rule = location_rule
        matter.keywords = ", ".join(rules.split_keywords(keywords))
        matter.examples = (examples or "").strip()
        matter.is_active = is_active
        matter.level = (parent.level + 1) if parent else 1
        matter.save()
        _relevel(matter)
        audit_record(
            actor=actor,
            action="update",
            obj=matter,
            summary=f"修改派单目录事项：{matter.path_name}",
            changes={"before": before},
        )
    return matter


def _height(matter: Matter) -> int:
    children = list(matter.children.all())
    return 0 if not children else 1 + max(_height(c) for c in children)


def _relevel(matter: Matter) -> None:
    for child in matter.children.all():
        if child.level != matter.level + 1:
            child.level = matter.level + 1
            child.save(update_fields=["level"])
        _relevel(child)


# --------------------------------------------------------------------------- xlsx import

IMPORT_COLUMNS = ["一级事项", "二级事项", "三级事项", "承办单位", "属地规则", "关键词", "示例诉求"]
_RULE_BY_LABEL = {
    "": LocationRule.UNIT,
    "指定单位": LocationRule.UNIT,
    "本单位": LocationRule.UNIT,
    "事发地区县": LocationRule.DISTRICT,
    "属地": LocationRule.DISTRICT,
    "垂直管理部门": LocationRule.VERTICAL,
    "垂直管理": LocationRule.VERTICAL,
}


def _cell(value: Any) -> str:
    from hotline.common.spreadsheet import unescape_cell

    return unescape_cell(str(value)).strip() if value is not None else ""


def catalogue_import(*, actor: User, data: bytes, file_name: str) -> CatalogueImport:
    """Import matters from an xlsx sheet with the columns IMPORT_COLUMNS (header in the first row, columns in any
    order). Every row is judged on its own: good rows are created or updated (same path → update), bad rows are
    listed with their reason; nothing of a bad row is saved. The report is kept."""
    require_manage(actor)
    if len(data) > settings.HOTLINE_MAX_IMPORT_BYTES:
        raise _fail("file", "文件过大")
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable upload is the user's error
        raise _fail("file", "无法读取该文件，请上传 xlsx 格式的表格") from exc
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = [_cell(v) for v in next(rows, ())]
    missing = [c for c in ("一级事项", "承办单位") if c not in header]
    if missing:
        raise _fail("file", f"缺少列：{'、'.join(missing)}")
    col = {name: header.index(name) for name in IMPORT_COLUMNS if name in header}
    units_by_code = {u.code: u for u in Unit.objects.all()}
    units_by_name: dict[str, list[Unit]] = {}
    for u in units_by_code.values():
        units_by_name.setdefault(u.name, []).append(u)

    report: list[dict[str, Any]] = []
    created = updated = failed = total = 0
    with transaction.atomic():
        record = CatalogueImport.objects.create(
            created_at=clock.now(), actor=actor, file_name=file_name[:255]
        )
        for number, values in enumerate(rows, start=2):
            cells = {name: _cell(values[i]) if i < len(values) else "" for name, i in col.items()}
            if not any(cells.values()):
                continue
            total += 1
            if total > MAX_IMPORT_ROWS:
                raise _fail("file", f"超过{MAX_IMPORT_ROWS}行")
            try:
                with transaction.atomic():
                    outcome = _import_row(cells, units_by_code, units_by_name, actor)
            except ServiceError as exc:
                failed += 1
                report.append({"row": number, "status": "error", "message": exc.message})
                continue
            created += outcome == "created"
            updated += outcome == "updated"
            report.append({"row": number, "status": outcome, "message": ""})
        record.rows_total, record.rows_created, record.rows_updated, record.rows_failed = (
            total,
            created,
            updated,
            failed,
        )
        record.report = report
        record.save()
        audit_record(
            actor=actor,
            action="import",
            obj=record,
            summary=f"导入派单目录 {file_name}：新增{created}，更新{updated}，失败{failed}",
        )
    return record


def _import_row(
    cells: dict[str, str], by_code: dict[str, Unit], by_name: dict[str, list[Unit]], actor: User
) -> str:
    names = [cells.get(c, "") for c in ("一级事项", "二级事项", "三级事项")]
    if not names[0]:
        raise _fail("一级事项", "一级事项为空")
    if not names[1] and names[2]:
        raise _fail("二级事项", "有三级事项时二级事项不能为空")
    names = [n for n in names if n]
    if any(len(n) > 200 for n in names):
        raise _fail("事项", "事项名称不能超过200字")
    rule_label = cells.get("属地规则", "")
    if rule_label not in _RULE_BY_LABEL:
        raise _fail("属地规则", f"属地规则“{rule_label}”无效（可填：指定单位、事发地区县、垂直管理部门）")
    rule = _RULE_BY_LABEL[rule_label]
    unit_text = cells.get("承办单位", "")
    unit: Unit | None = None
    if unit_text:
        unit = by_code.get(unit_text)
        if unit is None:
            candidates = [u for u in by_name.get(unit_text, []) if u.is_active]
            if len(candidates) > 1:
                raise _fail("承办单位", f"单位“{unit_text}”重名，请填单位编码")
            unit = candidates[0] if candidates else None
        if unit is None:
            raise _fail("承办单位", f"找不到单位“{unit_text}”")
        _check_unit(unit)
    elif rule == LocationRule.UNIT:
        raise _fail("承办单位", "承办单位为空")
    parent: Matter | None = None
    for name in names[:-1]:
        parent, _created = Matter.objects.get_or_create(
            parent=parent, name=name, defaults={"level": (parent.level + 1) if parent else 1}
        )
    leaf = Matter.objects.filter(parent=parent, name=names[-1]).first()
    fields = {
        "unit": unit,
        "location_rule": rule,
        "keywords": ", ".join(rules.split_keywords(cells.get("关键词", ""))),
        "examples": cells.get("示例诉求", ""),
        "is_active": True,
    }
    if leaf is None:
        Matter.objects.create(parent=parent, name=names[-1], level=len(names), **fields)
        return "created"
    for key, value in fields.items():
        setattr(leaf, key, value)
    leaf.save()
    return "updated"


# --------------------------------------------------------------------------- settings


def settings_update(
    *,
    actor: User,
    auto_dispatch: bool,
    threshold: Any,
    use_model: bool,
    auto_actor: User | None,
    scheduled_times: Any = None,
) -> DispatchSettings:
    """The office's settings; `scheduled_times` (None: unchanged) are when the scheduled job sends."""
    require_manage(actor)
    times = _parse_times(scheduled_times) if scheduled_times is not None else None
    try:
        value = Decimal(str(threshold))
    except (InvalidOperation, ValueError):
        raise _fail("threshold", "阈值应为 0.5 到 1 之间的数") from None
    if not value.is_finite() or not (Decimal("0.5") <= value <= Decimal("1")):
        raise _fail("threshold", "阈值应为 0.5 到 1 之间的数")
    if auto_actor is not None and not (
        auto_actor.is_active and auto_actor.in_office and auto_actor.has_role(Role.DISPATCHER)
    ):
        raise _fail("auto_actor", "自动派单账号须是热线办的在用派单员")
    if auto_dispatch and auto_actor is None:
        raise _fail("auto_actor", "启用自动派单须指定自动派单账号")
    with transaction.atomic():
        row = DispatchSettings.objects.select_for_update().order_by("pk").first() or DispatchSettings()
        row.auto_dispatch, row.threshold, row.use_model, row.auto_actor = (
            auto_dispatch,
            value.quantize(Decimal("0.001")),
            use_model,
            auto_actor,
        )
        if times is not None:
            row.scheduled_times = times
        row.save()
        audit_record(
            actor=actor,
            action="update",
            obj=row,
            summary=f"自动派单设置：{'启用' if auto_dispatch else '停用'}，阈值{row.threshold}，"
            f"定时派单{'、'.join(row.scheduled_times) or '无'}",
        )
    return row


# --------------------------------------------------------------------------- suggestions


@dataclass
class Advice:
    unit: Unit | None
    source: str
    confidence: float
    reason: str
    terms: list[str] = field(default_factory=list)
    similar: list[dict[str, Any]] = field(default_factory=list)
    matter: Matter | None = None
    version: ModelVersion | None = None


def advise(*, case: Case) -> Advice:
    """Rules first (catalogue keywords and the matter's location rule), then the active model, then the location
    default. Confidence: a rule whose matches agree on one unit 1.0, disagreeing matches 0.6; the model's
    probability; the location default 0 (never sent automatically)."""
    text = f"{case.title}。{case.content}"
    district, bureau = case.district, case.bureau
    matches = rules.match_matters(text, selectors.active_matters())
    resolved = []
    for match in matches:
        owner = rules.effective(match.matter)
        if owner is None:
            continue
        unit, why = rules.resolve_unit(owner, district=district, bureau=bureau)
        if unit is not None:
            resolved.append((match, unit, why))
    if resolved:
        match, unit, why = resolved[0]
        agree = all(u.pk == unit.pk for _m, u, _w in resolved)
        terms = match.terms
        return Advice(
            unit=unit,
            source=SuggestionSource.RULE,
            confidence=1.0 if agree else 0.6,
            reason=f"派单目录“{match.matter.path_name}”命中“{'、'.join(terms)}”，{why}",
            terms=terms,
            matter=match.matter,
        )
    config = selectors.dispatch_settings()
    version = selectors.active_model_version()
    if config.use_model and version is not None:
        loaded = load_model(version)
        if loaded is not None:
            prediction = loaded.predict(case.title, case.content)
            unit = Unit.objects.filter(pk=prediction.unit_id, is_active=True).first()
            if unit is not None:
                similar = prediction.similar
                shown = "、".join(s["number"] for s in similar[:3])
                return Advice(
                    unit=unit,
                    source=SuggestionSource.MODEL,
                    confidence=prediction.confidence,
                    reason=(
                        f"学习模型 v{version.version} 预测（置信度 {prediction.confidence:.0%}）"
                        + (f"，相似历史工单 {shown}" if shown else "")
                    ),
                    terms=prediction.terms,
                    similar=similar,
                    version=version,
                )
    from hotline.cases.services import default_main_unit_by_location

    unit, why = default_main_unit_by_location(case)
    return Advice(unit=unit, source=SuggestionSource.LOCATION, confidence=0.0, reason=why)


def stored_advice(case: Case) -> tuple[Unit, str] | None:
    """The advisor `cases` asks for the dispatch screen: the suggestion stored when the case reached the office."""
    # Asked for every case shown or created: the two columns first (a case just created has none yet), the unit
    # only when there is one.
    stored = (
        Suggestion.objects.filter(case_id=case.pk, unit__isnull=False)
        .exclude(source=SuggestionSource.LOCATION)
        .values_list("unit_id", "reason", "dispatch_mode")
        .first()
    )
    if stored is None:
        return None
    unit = Unit.objects.filter(pk=stored[0]).first()
    reason = stored[1] + MODE_NOTES.get(stored[2], "")
    return (unit, reason) if unit is not None else None


# What the dispatcher reads beside a suggestion its case's flow template does not send at once.
MODE_NOTES: dict[str, str] = {
    DispatchMode.AUTO_SCHEDULED: "（流程模板规定自动定时派单：达到阈值的建议在热线办设定的时间派出）",
    DispatchMode.MANUAL: "（流程模板规定人工派单：不自动派出）",
}


def dispatch_mode_of(case: Case) -> str:
    """What the case's flow template says at the office's dispatch step: automatic real-time (also a case without
    a template, or a step naming no mode), automatic scheduled, or manual."""
    step = flowhooks.step(case, CaseStatus.SUBMITTED)
    mode = step.dispatch_mode if step is not None else ""
    return mode if mode in DispatchMode.values else DispatchMode.AUTO_REALTIME


def suggestion_for_submitted(*, case: Case) -> Suggestion:
    """Store the suggestion for a case that has reached the office. When auto-dispatch is on and the confidence
    reaches the office's threshold, the case's flow template decides: automatic real-time sends it now (through
    the cases dispatch service, as the auto-dispatch account), automatic scheduled leaves it to the
    `dispatching-scheduled` job at the office's times, manual never sends it."""
    case = Case.objects.select_related("district", "bureau").get(pk=case.pk)
    advice = advise(case=case)
    mode = dispatch_mode_of(case)
    values = {
        "unit": advice.unit,
        "source": advice.source,
        "confidence": advice.confidence,
        "reason": advice.reason[:500],
        "matched_terms": advice.terms,
        "similar_cases": advice.similar,
        "matter": advice.matter,
        "model_version": advice.version,
        "created_at": clock.now(),
        "dispatch_mode": mode,
        "outcome": Outcome.PENDING,
        "final_unit": None,
        "decided_at": None,
        "decided_by": None,
    }
    # The case's one suggestion, written or rewritten in one statement (INSERT … ON CONFLICT (case) DO UPDATE,
    # its id returned): update_or_create took a savepoint, a SELECT … FOR UPDATE, a second savepoint and the
    # INSERT for every case reaching the office.
    suggestion = Suggestion(case=case, **values)
    Suggestion.objects.bulk_create(
        [suggestion], update_conflicts=True, unique_fields=["case"], update_fields=list(values)
    )
    if mode == DispatchMode.AUTO_REALTIME and _send_if_sure(case, suggestion, selectors.dispatch_settings()):
        suggestion.refresh_from_db()  # the dispatch recorded its outcome
    return suggestion


def _sure(suggestion: Suggestion, config: DispatchSettings) -> bool:
    return bool(
        config.pk
        and config.auto_dispatch
        and config.auto_actor is not None
        and suggestion.unit_id is not None
        and suggestion.source != SuggestionSource.LOCATION
        and suggestion.confidence >= float(config.threshold)
    )


def _send_if_sure(case: Case, suggestion: Suggestion, config: DispatchSettings) -> bool:
    """Send the case to the suggested unit when the office's settings allow it and the case still waits for
    dispatch; True when sent. A refusal (the case moved on, the template refuses the account) is logged and
    the case left to the dispatcher."""
    if not _sure(suggestion, config) or case.status != CaseStatus.SUBMITTED:
        return False
    from hotline.cases.models import AssignmentRole
    from hotline.cases.services import Target, case_dispatch

    assert config.auto_actor is not None and suggestion.unit is not None
    try:
        case_dispatch(
            case=case,
            actor=config.auto_actor,
            expected_version=case.version,
            targets=[Target(unit=suggestion.unit, role=AssignmentRole.MAIN)],
            opinion=f"智能派单：{suggestion.reason}"[:500],
        )
    except ServiceError as exc:
        logger.warning("auto-dispatch of case %s refused: %s", case.pk, exc.message)
        return False
    # The dispatch event may be handled before or after this line (it runs on its own commit).
    Suggestion.objects.filter(pk=suggestion.pk, outcome__in=[Outcome.PENDING, Outcome.ACCEPTED]).update(
        outcome=Outcome.AUTO,
        final_unit=suggestion.unit,
        decided_at=clock.now(),
        decided_by=config.auto_actor,
    )
    return True


def _parse_times(value: Any) -> list[str]:
    """ "HH:MM" times, sorted and unique, from a list or a text separated by commas / spaces."""
    if value is None:
        return []
    items = value.replace("，", ",").replace(",", " ").split() if isinstance(value, str) else value
    if not isinstance(items, list) or len(items) > 48:
        raise _fail("scheduled_times", "定时派单时间应为不超过48个 HH:MM 时间")
    times = set()
    for item in items:
        text = str(item).strip()
        hours, _colon, minutes = text.partition(":")
        if not (
            text.isascii()
            and hours.isdigit()
            and minutes.isdigit()
            and len(hours) <= 2
            and len(minutes) == 2
            and int(hours) < 24
            and int(minutes) < 60
        ):
            raise _fail("scheduled_times", f"“{text[:20]}”不是 HH:MM 格式的时间")
        times.add(f"{int(hours):02d}:{minutes}")
    return sorted(times)


def last_scheduled_time(now: dt.datetime, times: list[str]) -> dt.datetime | None:
    """The latest of the office's dispatch times at or before `now` (today's, else yesterday's last)."""
    if not times:
        return None
    local = timezone.localtime(now)
    for day in (local.date(), local.date() - dt.timedelta(days=1)):
        moments = [
            timezone.make_aware(dt.datetime.combine(day, dt.time.fromisoformat(t)), local.tzinfo)
            for t in times
        ]
        past = [m for m in moments if m <= local]
        if past:
            return max(past)
    return None


def scheduled_dispatch_run(*, limit: int = 500) -> int:
    """The `dispatching-scheduled` job: send the pending suggestions of "automatic scheduled" cases that reached
    the office before the latest of the office's dispatch times — above the threshold, with auto-dispatch on,
    the case still waiting for dispatch. Idempotent: a sent case is dispatched and its suggestion marked. A case
    the dispatch service refuses (logged) is handed to the dispatcher: its suggestion turns manual, so it is not
    tried again. Returns how many were sent."""
    config = selectors.dispatch_settings()
    cutoff = last_scheduled_time(clock.now(), list(config.scheduled_times or []))
    if cutoff is None or not (config.pk and config.auto_dispatch and config.auto_actor is not None):
        return 0
    queue = (
        Suggestion.objects.filter(
            outcome=Outcome.PENDING,
            dispatch_mode=DispatchMode.AUTO_SCHEDULED,
            created_at__lte=cutoff,
            case__status=CaseStatus.SUBMITTED,
            unit__isnull=False,
            confidence__gte=float(config.threshold),
        )
        .exclude(source=SuggestionSource.LOCATION)
        .select_related("unit", "case")
        .order_by("created_at", "pk")[:limit]
    )
    sent = 0
    for suggestion in queue:
        if _send_if_sure(suggestion.case, suggestion, config):
            sent += 1
        else:
            Suggestion.objects.filter(pk=suggestion.pk, outcome=Outcome.PENDING).update(
                dispatch_mode=DispatchMode.MANUAL
            )
    return sent


def suggestion_record_outcome(*, case: Case, actor: User | None) -> Suggestion | None:
    """After a dispatch or reassignment: was the suggestion taken? A different main unit is an override, kept
    for the next training."""
    main_unit_id = Case.objects.filter(pk=case.pk).values_list("main_unit_id", flat=True).first()
    with transaction.atomic():
        suggestion = Suggestion.objects.select_for_update().filter(case_id=case.pk).first()
        if suggestion is None or main_unit_id is None:
            return suggestion
        same = suggestion.unit_id == main_unit_id
        if suggestion.outcome == Outcome.PENDING:
            suggestion.outcome = Outcome.ACCEPTED if same else Outcome.OVERRIDDEN
        elif not same:
            suggestion.outcome = Outcome.OVERRIDDEN
        else:
            return suggestion
        suggestion.final_unit_id = main_unit_id
        suggestion.decided_at = clock.now()
        suggestion.decided_by = actor if getattr(actor, "pk", None) else None
        suggestion.save(update_fields=["outcome", "final_unit", "decided_at", "decided_by"])
    return suggestion


# --------------------------------------------------------------------------- the model


def models_dir() -> Path:
    path = Path(settings.VAR_DIR) / "dispatching" / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def use_embeddings() -> bool:
    from .learning.embed import available

    return bool(getattr(settings, "HOTLINE_DISPATCH_EMBEDDINGS", True)) and available()


_loaded: dict[int, Any] = {}
_load_lock = threading.Lock()


def load_model(version: ModelVersion) -> Any:
    from .learning.unitmodel import UnitModel

    with _load_lock:
        if version.version not in _loaded:
            path = models_dir() / version.file_name
            if not path.exists():
                logger.error("dispatch model file %s is missing", path)
                return None
            _loaded.clear()
            _loaded[version.version] = UnitModel.load(path)
        return _loaded[version.version]


def warm_up() -> object:
    """Load the active model (and the embedder it uses) before a server process's first request."""
    version = selectors.active_model_version()
    if version is None:
        return None
    model = load_model(version)
    if model is not None and model.classifier.embed_model_ is not None:
        from .learning.embed import EmbeddingCache

        EmbeddingCache().embed(["预热"], store=False)
    return model


def model_train(*, actor: User | None = None, limit: int = 50_000) -> ModelVersion | None:
    """Train a new version on the closed cases: measure it on the newest HELD_BACK_SHARE (trained on the older
    rest), then refit on all and activate it. Overridden suggestions weigh OVERRIDE_WEIGHT. None: too few cases."""
    if actor is not None:
        require_manage(actor)
    from .learning.unitmodel import TrainingCase, UnitModel

    cases = list(
        selectors.training_cases(limit=limit).values_list("id", "number", "title", "content", "main_unit_id")
    )
    if len(cases) < MIN_TRAINING_CASES or len({c[4] for c in cases}) < 2:
        return None
    overridden = set(
        Suggestion.objects.filter(outcome=Outcome.OVERRIDDEN, case_id__in=[c[0] for c in cases]).values_list(
            "case_id", flat=True
        )
    )
    data = [
        TrainingCase(
            number=number,
            title=title,
            content=content,
            unit_id=unit_id,
            weight=OVERRIDE_WEIGHT if pk in overridden else 1.0,
        )
        for pk, number, title, content, unit_id in cases
    ]
    descriptions = _unit_descriptions()
    embeddings = use_embeddings()
    cut = int(len(data) * (1 - HELD_BACK_SHARE))
    older, newest = data[:cut], data[cut:]
    correct = 0
    if len({c.unit_id for c in older}) >= 2:
        trial = UnitModel.train(older, descriptions=descriptions, embeddings=embeddings)
        correct = sum(int(trial.predict(c.title, c.content).unit_id == c.unit_id) for c in newest)
    final = UnitModel.train(data, descriptions=descriptions, embeddings=embeddings)
    with transaction.atomic():
        last = ModelVersion.objects.select_for_update().order_by("-version").first()
        number = (last.version if last else 0) + 1
        file_name = f"dispatch-v{number}.joblib"
        final.save(models_dir() / file_name)
        ModelVersion.objects.filter(is_active=True).update(is_active=False)
        version = ModelVersion.objects.create(
            version=number,
            created_at=clock.now(),
            trained_cases=len(data),
            heldout_cases=len(newest),
            heldout_correct=correct,
            overrides_used=len(overridden),
            units=len({c.unit_id for c in data}),
            file_name=file_name,
            is_active=True,
        )
        audit_record(
            actor=actor,
            action="create",
            obj=version,
            summary=f"派单模型 v{number}：{len(data)} 件，留出 {len(newest)} 件命中 {correct}",
        )
    return version


def _unit_descriptions() -> dict[int, list[str]]:
    """Catalogue matters with a fixed unit as label descriptions: the matter's names, keywords and examples."""
    out: dict[int, list[str]] = {}
    for matter in selectors.matters(active_only=True):
        owner = rules.effective(matter)
        if owner is None or owner.unit_id is None or owner.location_rule != LocationRule.UNIT:
            continue
        texts = out.setdefault(owner.unit_id, [])
        texts.append(matter.path_name.replace(" / ", " "))
        texts.extend(line.strip() for line in matter.examples.splitlines() if line.strip())
    return out


def scheduled_training() -> int | None:
    """The periodic job: a new version when closed cases or overrides have been added since the active one."""
    active = selectors.active_model_version()
    total = selectors.training_cases(limit=50_000).count()
    if active is not None and total <= active.trained_cases:
        return None
    version = model_train()
    return version.version if version else None
