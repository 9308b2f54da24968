"""The office's dispatch catalogue screen: matters, xlsx import with its row report, auto-dispatch settings,
model versions with their held-back accuracy, recent overrides. Thin: parse, call a service, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hotline.common.errors import ServiceError
from hotline.orgs.models import Role, Unit, UnitKind, User

from . import selectors, services
from .models import LocationRule, Matter
from .permissions import may_manage


def _manager(request: HttpRequest) -> User:
    from django.core.exceptions import PermissionDenied

    user = request.user
    if not may_manage(user):
        raise PermissionDenied
    assert isinstance(user, User)
    return user


def _tree(matters: list[Matter]) -> list[Matter]:
    children: dict[int | None, list[Matter]] = {}
    for m in matters:
        children.setdefault(m.parent_id, []).append(m)
    out: list[Matter] = []

    def walk(parent: int | None) -> None:
        for m in sorted(children.get(parent, []), key=lambda x: (x.name, x.pk)):
            out.append(m)
            walk(m.pk)

    walk(None)
    return out


def _context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    matters = list(selectors.matters())
    return {
        "matters": _tree(matters),
        "units": Unit.objects.filter(is_active=True).exclude(kind=UnitKind.OFFICE).order_by("path"),
        "rules": LocationRule.choices,
        "settings_row": selectors.dispatch_settings(),
        "dispatchers": User.objects.filter(
            is_active=True, unit__kind=UnitKind.OFFICE, roles__role=Role.DISPATCHER
        ).distinct(),
        "versions": selectors.model_versions()[:20],
        "imports": selectors.imports()[:5],
        "overrides": selectors.recent_overrides(),
        "outcomes": selectors.outcome_counts(),
        **extra,
    }


@login_required
def catalogue(request: HttpRequest) -> HttpResponse:
    _manager(request)
    edit = None
    if request.GET.get("edit", "").isdigit():
        edit = get_object_or_404(Matter, pk=int(request.GET["edit"]))
    return render(request, "dispatching/catalogue.html", _context(request, edit=edit))


def _matter_fields(request: HttpRequest) -> dict[str, Any]:
    post = request.POST
    parent = unit = None
    if post.get("parent", "").isdigit():
        parent = Matter.objects.filter(pk=int(post["parent"])).first()
    if post.get("unit", "").isdigit():
        unit = Unit.objects.filter(pk=int(post["unit"])).first()
    return {
        "name": post.get("name", ""),
        "parent": parent,
        "unit": unit,
        "location_rule": post.get("location_rule", LocationRule.UNIT),
        "keywords": post.get("keywords", ""),
        "examples": post.get("examples", ""),
    }


def _failed(request: HttpRequest, exc: ServiceError, status: int = 400, **extra: Any) -> HttpResponse:
    return render(
        request,
        "dispatching/catalogue.html",
        _context(request, error=exc.message, **extra),
        status=exc.status_code,
    )


@login_required
@require_POST
def matter_save(request: HttpRequest) -> HttpResponse:
    user = _manager(request)
    fields = _matter_fields(request)
    try:
        if request.POST.get("matter", "").isdigit():
            matter = get_object_or_404(Matter, pk=int(request.POST["matter"]))
            services.matter_update(
                actor=user, matter=matter, is_active=request.POST.get("is_active") == "on", **fields
            )
        else:
            services.matter_create(actor=user, **fields)
    except ServiceError as exc:
        return _failed(request, exc)
    messages.success(request, _("已保存"))
    return redirect("dispatching:catalogue")


@login_required
@require_POST
def catalogue_import(request: HttpRequest) -> HttpResponse:
    user = _manager(request)
    upload = request.FILES.get("file")
    if upload is None:
        return _failed(
            request, ServiceError(_("请选择 xlsx 文件"), field_errors={"file": [_("请选择 xlsx 文件")]})
        )
    try:
        record = services.catalogue_import(actor=user, data=upload.read(), file_name=upload.name or "")
    except ServiceError as exc:
        return _failed(request, exc)
    return render(request, "dispatching/catalogue.html", _context(request, report=record))


@login_required
@require_POST
def settings_save(request: HttpRequest) -> HttpResponse:
    user = _manager(request)
    actor_id = request.POST.get("auto_actor", "")
    auto_actor = User.objects.filter(pk=int(actor_id)).first() if actor_id.isdigit() else None
    try:
        services.settings_update(
            actor=user,
            auto_dispatch=request.POST.get("auto_dispatch") == "on",
            threshold=request.POST.get("threshold", ""),
            use_model=request.POST.get("use_model") == "on",
            auto_actor=auto_actor,
            scheduled_times=request.POST.get("scheduled_times"),
        )
    except ServiceError as exc:
        return _failed(request, exc)
    messages.success(request, _("已保存"))
    return redirect("dispatching:catalogue")


@login_required
@require_POST
def train_now(request: HttpRequest) -> HttpResponse:
    user = _manager(request)
    version = services.model_train(actor=user)
    if version is None:
        messages.warning(request, _("已办结工单不足，暂不能训练"))
    else:
        messages.success(request, _("已训练新版本 v%(v)s") % {"v": version.version})
    return redirect("dispatching:catalogue")
