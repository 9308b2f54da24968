"""The partner screen: who is connected, their traffic and failures, credentials issued once."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hotline.cases.selectors import case_get
from hotline.common import clock
from hotline.common.errors import NotFound, ServiceError
from hotline.common.http import error_text

from . import basedata, emergency, keyrequests, selectors, services
from .forms import BaseDataImportForm, PartnerEditForm, PartnerForm, SubscriptionForm
from .models import ApiKeyRequest, EmergencyHandover, Partner
from .permissions import may_manage_partners


def _manager(request: HttpRequest) -> Any:
    if not may_manage_partners(request.user):
        raise Http404
    return request.user


@login_required
def partner_list(request: HttpRequest) -> HttpResponse:
    user = _manager(request)
    return render(
        request,
        "integrations/partner_list.html",
        {
            "partners": selectors.partner_list(user=user),
            "unknown_failures": selectors.unknown_caller_failures(user=user),
            "key_requests": keyrequests.pending_key_requests(user=user),
        },
    )


@login_required
def partner_new(request: HttpRequest) -> HttpResponse:
    user = _manager(request)
    form = PartnerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            partner, issued = services.partner_create(actor=user, **form.cleaned_data)
        except ServiceError as exc:
            for field, messages in exc.field_errors.items():
                for message in messages:
                    form.add_error(field if field in form.fields else None, message)
            if not exc.field_errors:
                form.add_error(None, exc.message)
        else:
            return _credentials(request, partner, issued)
    return render(request, "integrations/partner_form.html", {"form": form})


@login_required
def partner_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _manager(request)
    partner = _partner(request, pk)
    initial = {
        "name": partner.name,
        "allowed_networks": partner.allowed_networks,
        "scopes": partner.scopes,
        "rate_per_minute": partner.rate_per_minute,
        "knowledge_spaces": list(partner.knowledge_spaces.all()),
        "knowledge_public_only": partner.knowledge_public_only,
    }
    form = PartnerEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.partner_update(actor=user, partner=partner, **form.cleaned_data)
        except ServiceError as exc:
            for field, messages in exc.field_errors.items():
                for message in messages:
                    form.add_error(field if field in form.fields else None, message)
            if not exc.field_errors:
                form.add_error(None, exc.message)
        else:
            return redirect("integ-partner", pk=partner.pk)
    response = render(request, "integrations/partner_form.html", {"form": form, "partner": partner})
    if request.method == "POST":
        response.status_code = 400
    return response


@login_required
def partner_detail(request: HttpRequest, pk: int, error: str = "") -> HttpResponse:
    partner = _partner(request, pk)
    return render(
        request,
        "integrations/partner_detail.html",
        {
            "partner": partner,
            "failures": selectors.partner_failures(partner=partner),
            "calls": selectors.partner_calls(partner=partner),
            "backlog": selectors.partner_backlog(partner=partner),
            "subscriptions": selectors.partner_subscriptions(partner=partner),
            "dead": selectors.partner_dead_deliveries(partner=partner),
            "subscription_form": SubscriptionForm(),
            "error": error,
            "handover": emergency.handover_figure(partner=partner, since=clock.now() - dt.timedelta(days=30))
            if partner.kind == Partner.Kind.EMERGENCY
            else None,
        },
    )


@login_required
@require_POST
def partner_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    partner = _partner(request, pk)
    issued = services.partner_rotate_credentials(actor=request.user, partner=partner)
    return _credentials(request, partner, issued)


@login_required
@require_POST
def partner_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    partner = _partner(request, pk)
    services.partner_set_active(actor=request.user, partner=partner, active=not partner.is_active)
    return partner_detail(request, pk)


@login_required
@require_POST
def subscription_new(request: HttpRequest, pk: int) -> HttpResponse:
    partner = _partner(request, pk)
    form = SubscriptionForm(request.POST)
    if not form.is_valid():
        return partner_detail(request, pk, error=_form_errors(form))
    try:
        services.subscription_create(actor=request.user, partner=partner, **form.cleaned_data)
    except ServiceError as exc:
        return partner_detail(request, pk, error=error_text(exc))
    return redirect("integ-partner", pk=pk)


@login_required
@require_POST
def deliveries_retry(request: HttpRequest, pk: int) -> HttpResponse:
    partner = _partner(request, pk)
    services.delivery_retry(actor=request.user, partner=partner)
    return redirect("integ-partner", pk=pk)


def _form_errors(form: SubscriptionForm) -> str:
    return "；".join(
        f"{form.fields[name].label}：{' '.join(str(e) for e in errors)}"
        for name, errors in form.errors.items()
    )


def _partner(request: HttpRequest, pk: int) -> Partner:
    partner = selectors.partner_get(user=_manager(request), pk=pk)
    if partner is None:
        raise Http404
    return partner


def _credentials(request: HttpRequest, partner: Partner, issued: services.IssuedCredentials) -> HttpResponse:
    response = render(
        request, "integrations/partner_credentials.html", {"partner": partner, "issued": issued}
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
def base_data(request: HttpRequest) -> HttpResponse:
    """Export units, users and dictionaries; import an edited file with a dry run first (API-3)."""
    user = _manager(request)
    form = BaseDataImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            report = basedata.import_file(
                kind=form.cleaned_data["kind"],
                upload=upload,
                file_name=upload.name,
                actor=user,
                dry_run=form.cleaned_data["dry_run"],
            )
        except ServiceError as exc:
            form.add_error("file", exc.message)
    return render(
        request,
        "integrations/base_data.html",
        {"form": form, "report": report, "kinds": basedata.KINDS.values(), "formats": basedata.FORMATS},
        status=400 if request.method == "POST" and not form.is_valid() else 200,
    )


@login_required
def base_data_export(request: HttpRequest, kind: str) -> HttpResponse:
    user = _manager(request)
    if kind not in basedata.KINDS:
        raise Http404
    fmt = request.GET.get("format", "xlsx")
    try:
        body = basedata.export(kind=kind, fmt=fmt, actor=user)
    except ServiceError as exc:
        return HttpResponse(exc.message, status=400, content_type="text/plain; charset=utf-8")
    content_types = {
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "csv": "text/csv; charset=utf-8",
        "json": "application/json",
    }
    response = HttpResponse(body, content_type=content_types[fmt])
    response["Content-Disposition"] = f'attachment; filename="base-data-{kind}.{fmt}"'
    return response


@login_required
@require_POST
def key_request_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve or reject a civic app's Open311 key request (the app collects the key itself)."""
    user = _manager(request)
    found = ApiKeyRequest.objects.filter(pk=pk).first()
    if found is None:
        raise Http404
    try:
        if request.POST.get("decision") == "approve":
            keyrequests.key_request_approve(actor=user, request=found)
        elif request.POST.get("decision") == "reject":
            keyrequests.key_request_reject(actor=user, request=found, note=request.POST.get("note", ""))
        else:
            return HttpResponse(_("未知的操作"), status=400, content_type="text/plain; charset=utf-8")
    except ServiceError as exc:
        return HttpResponse(exc.message, status=exc.status_code, content_type="text/plain; charset=utf-8")
    return redirect("integ-partners")


@login_required
def case_emergency(request: HttpRequest, case_pk: int) -> HttpResponse:
    """The case page's emergency-linkage panel (loaded by htmx): hand-overs so far and, for agents, dispatchers
    and monitors, the one-click transfer to 110 / 119 / 120 / 122."""
    user = request.user
    try:
        case = case_get(user=user, pk=case_pk)  # type: ignore[arg-type]
    except NotFound:
        raise Http404 from None
    error = ""
    if request.method == "POST":
        partner = Partner.objects.filter(pk=request.POST.get("partner") or 0).first()
        try:
            if partner is None:
                raise ServiceError(_("请选择已启用的联动平台"))
            emergency.emergency_transfer(
                case=case,
                actor=user,  # type: ignore[arg-type]
                service=request.POST.get("service", ""),
                partner=partner,
                note=request.POST.get("note", ""),
                transfer_call=request.POST.get("transfer_call") == "on",
            )
        except ServiceError as exc:
            error = exc.message
    response = render(
        request,
        "integrations/_case_emergency.html",
        {
            "case": case,
            "handovers": emergency.case_handovers(case=case),
            "may_transfer": emergency.may_transfer(user),
            "partners": emergency.emergency_partners() if emergency.may_transfer(user) else [],
            "services": EmergencyHandover.Service.choices,
            "limit_minutes": int(emergency.HANDOVER_LIMIT.total_seconds() // 60),
            "limit_seconds": int(emergency.HANDOVER_LIMIT.total_seconds()),
            "error": error,
        },
    )
    if error:
        response.status_code = 400
    return response
