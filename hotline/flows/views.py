"""Screens of flow templates (FLW-1, FLW-2, FLW-4): list and import, a template's rules and versions, the
form-based editor (steps and transitions as formsets), review and publishing with the validation problems shown,
the graph as SVG, JSON export; and the case page's card with the case's position in its template.

Managers only (the office's dispatchers, leaders, admins): everyone else gets 404 on every id and 403 on the list.
Thin: parse, call one service, render."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hotline.cases.models import Case
from hotline.common.errors import ServiceError
from hotline.orgs.models import User

from . import definition, guards, selectors, services, svg
from .forms import (
    NewTemplateForm,
    StepFormSet,
    TemplateForm,
    TransitionFormSet,
    flow_from_formsets,
    formset_initial,
)
from .models import FlowTemplate, FlowVersion, VersionStatus
from .permissions import may_manage

MAX_IMPORT_BYTES = 512 * 1024


def _manager(request: HttpRequest, *, by_id: bool = True) -> User:
    user = request.user
    if not may_manage(user):
        if by_id:
            raise Http404  # no hint whether the template exists
        raise PermissionDenied
    assert isinstance(user, User)
    return user


def _template(pk: int) -> FlowTemplate:
    template = FlowTemplate.objects.filter(pk=pk).first()
    if template is None:
        raise Http404
    return template


def _version(pk: int) -> FlowVersion:
    version = FlowVersion.objects.select_related("template").filter(pk=pk).first()
    if version is None:
        raise Http404
    return version


def _svg(flow: definition.FlowDef, **kw: Any) -> str:
    return mark_safe(svg.render(flow, **kw))  # noqa: S308 - built by svg.render, every text escaped


def _field_messages(error: ServiceError) -> list[str]:
    out = []
    for field, errors in error.field_errors.items():
        out += errors if field == "definition" else [f"{field}: {e}" for e in errors]
    return out or [error.message]


@login_required
def template_list(request: HttpRequest) -> HttpResponse:
    _manager(request, by_id=False)
    templates = list(selectors.template_list())
    return render(
        request,
        "flows/list.html",
        {"templates": templates, "form": NewTemplateForm(), "import_error": None},
    )


@login_required
@require_POST
def template_new(request: HttpRequest) -> HttpResponse:
    user = _manager(request, by_id=False)
    form = NewTemplateForm(request.POST)
    if form.is_valid():
        try:
            template = services.template_create(actor=user, **form.cleaned_data)
        except ServiceError as error:
            for field, errors in error.field_errors.items():
                for e in errors:
                    form.add_error(field if field in form.fields else None, e)
        else:
            return redirect("flows:flow-template", pk=template.pk)
    templates = list(selectors.template_list())
    return render(request, "flows/list.html", {"templates": templates, "form": form}, status=400)


@login_required
@require_POST
def template_import(request: HttpRequest) -> HttpResponse:
    user = _manager(request, by_id=False)
    upload = request.FILES.get("file")
    raw = upload.read(MAX_IMPORT_BYTES + 1) if upload is not None else request.POST.get("json", "").encode()
    error: list[str] = []
    if not raw.strip():
        error = [_("请选择导出的 JSON 文件或粘贴其内容")]
    elif len(raw) > MAX_IMPORT_BYTES:
        error = [_("文件过大（最多 512 KB）")]
    else:
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            error = [_("不是有效的 JSON")]
        else:
            try:
                version = services.template_import(actor=user, data=data)
            except ServiceError as refusal:
                error = _field_messages(refusal)
            else:
                messages.success(request, _("已导入为拟稿版本，请检查后提交审核"))
                return redirect("flows:flow-version", pk=version.pk)
    templates = list(selectors.template_list())
    return render(
        request,
        "flows/list.html",
        {"templates": templates, "form": NewTemplateForm(), "import_error": error},
        status=400,
    )


def _template_initial(template: FlowTemplate) -> dict[str, Any]:
    return {
        "name": template.name,
        "description": template.description,
        "case_types": template.case_types,
        "bureaus": template.bureaus,
        "channels": template.channels,
        "valid_from": template.valid_from,
        "valid_to": template.valid_to,
        "priority": template.priority,
    }


@login_required
def template_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _manager(request)
    template = _template(pk)
    form = TemplateForm(request.POST or None, initial=_template_initial(template))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.template_update(actor=user, template=template, **form.cleaned_data)
            except ServiceError as error:
                for field, errors in error.field_errors.items():
                    for e in errors:
                        form.add_error(field if field in form.fields else None, e)
                if not error.field_errors:
                    form.add_error(None, error.message)
            else:
                messages.success(request, _("模板已保存"))
                return redirect("flows:flow-template", pk=template.pk)
        status = 400
    versions = list(template.versions.all())
    newest = next((v for v in versions if v.is_published), None)
    graph = _svg(definition.from_version(newest)) if newest is not None else ""
    return render(
        request,
        "flows/template.html",
        {
            "template": template,
            "form": form,
            "versions": versions,
            "newest": newest,
            "svg": graph,
            "open_version": next((v for v in versions if not v.is_published), None),
        },
        status=status,
    )


@login_required
@require_POST
def template_status(request: HttpRequest, pk: int) -> HttpResponse:
    user = _manager(request)
    template = _template(pk)
    try:
        services.template_set_status(actor=user, template=template, move=request.POST.get("move", ""))
    except ServiceError as error:
        messages.error(request, error.message)
    return redirect("flows:flow-template", pk=template.pk)


@login_required
@require_POST
def version_new(request: HttpRequest, pk: int) -> HttpResponse:
    user = _manager(request)
    template = _template(pk)
    try:
        version = services.version_new_draft(actor=user, template=template)
    except ServiceError as error:
        messages.error(request, error.message)
        return redirect("flows:flow-template", pk=template.pk)
    return redirect("flows:flow-edit", pk=version.pk)


@login_required
def version_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _manager(request)
    version = _version(pk)
    flow = definition.from_version(version)
    problems = definition.validate(flow) if not version.is_published else []
    return render(
        request,
        "flows/version.html",
        {
            "version": version,
            "template": version.template,
            "flow": flow,
            "svg": _svg(flow),
            "problems": problems,
            "cases": version.cases.count(),
        },
    )


@login_required
def version_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _manager(request)
    version = _version(pk)
    if not version.is_editable:
        messages.error(request, _("只有拟稿中的版本可以修改"))
        return redirect("flows:flow-version", pk=version.pk)
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        steps = StepFormSet(request.POST, prefix="steps")
        transitions = TransitionFormSet(request.POST, prefix="transitions")
        if steps.is_valid() and transitions.is_valid():
            try:
                services.version_save_definition(
                    actor=user, version=version, flow=flow_from_formsets(steps, transitions)
                )
            except ServiceError as error:
                errors = _field_messages(error)
            else:
                messages.success(request, _("已保存"))
                return redirect("flows:flow-version", pk=version.pk)
        else:
            errors = [_("请改正下方标出的字段")]
        status = 400
    else:
        step_rows, transition_rows = formset_initial(definition.from_version(version))
        steps = StepFormSet(initial=step_rows, prefix="steps")
        transitions = TransitionFormSet(initial=transition_rows, prefix="transitions")
    return render(
        request,
        "flows/edit.html",
        {
            "version": version,
            "template": version.template,
            "steps": steps,
            "transitions": transitions,
            "errors": errors,
            "guard_fields": guards.FIELDS,
        },
        status=status,
    )


MOVES = {
    "submit": services.version_submit,
    "publish": services.version_publish,
}


@login_required
@require_POST
def version_move(request: HttpRequest, pk: int, move: str) -> HttpResponse:
    user = _manager(request)
    version = _version(pk)
    try:
        if move == "reject":
            services.version_reject(actor=user, version=version, note=request.POST.get("note", ""))
        elif move in MOVES:
            MOVES[move](actor=user, version=version)
        else:
            raise Http404
    except ServiceError as error:
        flow = definition.from_version(version)
        return render(
            request,
            "flows/version.html",
            {
                "version": version,
                "template": version.template,
                "flow": flow,
                "svg": _svg(flow),
                "problems": definition.validate(flow),
                "refusal": _field_messages(error),
                "cases": version.cases.count(),
            },
            status=400,
        )
    version.refresh_from_db()
    if version.status == VersionStatus.PUBLISHED:
        messages.success(request, _("已发布：新工单将按此版本流转"))
    return redirect("flows:flow-version", pk=version.pk)


@login_required
def version_export(request: HttpRequest, pk: int) -> HttpResponse:
    _manager(request)
    version = _version(pk)
    response = JsonResponse(
        services.version_export(version), json_dumps_params={"ensure_ascii": False, "indent": 2}
    )
    response["Content-Disposition"] = (
        f'attachment; filename="flow-{version.template.code}-v{version.number}.json"'
    )
    return response


@login_required
def version_svg(request: HttpRequest, pk: int) -> HttpResponse:
    _manager(request)
    version = _version(pk)
    response = HttpResponse(svg.render(definition.from_version(version)), content_type="image/svg+xml")
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


def case_position_context(request: HttpRequest, user: Any, case: Case) -> dict[str, Any] | None:
    """The case page's card: the case's template version and where it stands in it (None: no template)."""
    position = selectors.case_position(case=case)
    if position is None:
        return None
    return {
        "position": position,
        "svg": _svg(position.flow, current=position.current_codes, done=position.done_codes, compact=True),
        "may_manage": may_manage(user),
    }
