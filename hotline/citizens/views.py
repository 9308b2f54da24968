"""The staff screens for citizen records (HTML): screen pop, search, profile, blacklist, import. Thin: parse, call
one selector or service, render. Exports link to the API's export endpoints (session-authenticated)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hotline.common.errors import ServiceError
from hotline.common.http import get_or_404, report_error
from hotline.orgs.http import request_user as _user
from hotline.orgs.models import User

from . import history, importexport, jobs, selectors, services
from .models import (
    BlacklistDirection,
    BlacklistEntry,
    BlacklistTreatment,
    Citizen,
    CitizenLevel,
    ImportKind,
    ImportStatus,
    RelatedContact,
)

# Screen-pop sections, in the order shown when the caller's area layout does not list any.
SECTIONS = ("blacklist", "profile", "counts", "contacts", "open_cases", "recent_cases", "history")
MIN_DIGITS = 7


# --------------------------------------------------------------------------- screen pop (CIT-5)


def pop_sections(layout: dict[str, Any] | None, *, blacklisted: bool) -> list[str]:
    """The sections of the caller's area layout, in its order (unknown names ignored), else all of them. A
    blacklist warning is never configured away: it goes first when the layout leaves it out."""
    wanted = (layout or {}).get("sections") or []
    sections = [s for s in wanted if isinstance(s, str) and s in SECTIONS] if isinstance(wanted, list) else []
    sections = list(dict.fromkeys(sections)) or list(SECTIONS)
    if blacklisted and "blacklist" not in sections:
        sections.insert(0, "blacklist")
    return sections


def screen_pop_context(*, user: User, number: str) -> dict[str, Any]:
    """The screen-pop selector's view of a number (masked per role), its sections; an unmasked view is audited
    (ORG-4) as the API does."""
    pop = services.screen_pop_viewed(user=user, number=number)
    return {"pop": pop, "sections": pop_sections(pop["layout"], blacklisted=pop["blacklisted"])}


def _pop_page_context(request: HttpRequest, number: str, *, embedded: bool) -> dict[str, Any]:
    """The number typed, and its screen pop once it has enough digits to be one."""
    number = number.strip()
    context: dict[str, Any] = {"embedded": embedded, "number": number}
    if sum(ch.isdigit() for ch in number) >= MIN_DIGITS:
        context.update(screen_pop_context(user=_user(request), number=number))
    return context


def screen_pop_partial(request: HttpRequest, number: str, *, embedded: bool) -> HttpResponse:
    """The screen pop as an htmx partial (the intake form's caller card, or the agents' pop page)."""
    return render(request, "citizens/_screen_pop.html", _pop_page_context(request, number, embedded=embedded))


CALL_ID_RE = re.compile(r"[A-Za-z0-9._:@-]{1,40}")


@login_required
def screen_pop(request: HttpRequest) -> HttpResponse:
    """/citizens/pop/?phone= — the full screen pop for a number, for agents on a call."""
    number = request.GET.get("phone", "")
    if request.headers.get("HX-Request") and request.GET.get("partial"):
        return screen_pop_partial(request, number, embedded=False)
    context = _pop_page_context(request, number, embedded=False)
    # A phone system opens the pop with its call id; 受理登记 passes it on to intake, which keeps it with the case.
    call_id = request.GET.get("call_id", "").strip()
    context["call_id"] = call_id if CALL_ID_RE.fullmatch(call_id) else ""
    return render(request, "citizens/pop.html", context)


# --------------------------------------------------------------------------- search and profile (CIT-1..3)


@login_required
def citizen_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    params = {k: request.GET.get(k, "").strip() for k in ("query", "phone", "id_card", "level")}
    if params["level"] not in CitizenLevel.values:
        params["level"] = ""
    qs = selectors.citizen_search(user=user, **params).prefetch_related("phones")
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "citizens/list.html",
        {
            "page": page,
            # The list is masked for everyone, as in the API; the profile page shows (and audits) full numbers.
            "rows": [selectors.citizen_data(c, masked=True) for c in page.object_list],
            "params": params,
            "query": query.urlencode(),
            "levels": CitizenLevel.choices,
            "may_edit": selectors.may_edit_citizens(user),
            "may_blacklist": selectors.may_manage_blacklist(user),
        },
    )


def _citizen_or_404(user: User, pk: int) -> Citizen:
    return get_or_404(selectors.citizen_get, user=user, pk=pk)


@login_required
def citizen_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    citizen = _citizen_or_404(user, pk)
    masked = not selectors.sees_personal_data(user)
    if not masked:
        services.citizen_record_view(citizen=citizen, actor=user, reason="档案详情")
    phones = list(citizen.phones.all())
    numbers = [p.number for p in phones] or ([citizen.phone] if citizen.phone else [])
    entries = history.contact_history(user=user, citizen=citizen, numbers=numbers, limit=200)
    blocked = [e for e in (selectors.blacklist_lookup(n, BlacklistDirection.INBOUND) for n in numbers) if e]
    blocked += [
        e
        for e in (selectors.blacklist_lookup(n, BlacklistDirection.OUTBOUND) for n in numbers)
        if e and e not in blocked
    ]
    return render(
        request,
        "citizens/detail.html",
        {
            "citizen": selectors.citizen_data(citizen, masked=masked, phones=phones),
            "contacts": [selectors.contact_data(c, masked=masked) for c in citizen.contacts.all()],
            "history": [{**e.__dict__, "number": selectors.mask(e.number, masked=masked)} for e in entries],
            "blacklist": [selectors.blacklist_data(e) for e in blocked],
            "masked": masked,
            "may_edit": selectors.may_edit_citizens(user),
        },
    )


@login_required
@require_POST
def contact_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    citizen = _citizen_or_404(user, pk)
    if not selectors.may_edit_citizens(user):
        raise PermissionDenied
    data = services.ContactInput(
        **{k: request.POST.get(k, "") for k in ("name", "relation", "phone", "address", "notes")}
    )
    try:
        services.contact_create(citizen=citizen, actor=user, data=data)
    except ServiceError as exc:
        report_error(request, exc)
    else:
        messages.success(request, _("联系人已添加。"))
    return redirect("citizen-detail", pk=pk)


@login_required
@require_POST
def contact_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    contact = RelatedContact.objects.filter(pk=pk).first()
    if contact is None or not selectors.citizen_visible(user=user).filter(pk=contact.citizen_id).exists():
        raise Http404  # another unit's: not found before any role check
    if not selectors.may_edit_citizens(user):
        raise PermissionDenied
    services.contact_delete(contact=contact, actor=user)
    messages.success(request, _("联系人已删除。"))
    return redirect("citizen-detail", pk=contact.citizen_id)


# --------------------------------------------------------------------------- blacklist (CIT-4)


def _require_blacklist(user: User) -> None:
    if not selectors.may_manage_blacklist(user):
        raise PermissionDenied


def _expires(value: str) -> dt.datetime | None:
    """A datetime-local field (YYYY-MM-DDTHH:MM) in local time, or empty."""
    value = (value or "").strip()
    if not value:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        raise ServiceError(_("输入有误"), field_errors={"expires_at": [_("到期时间格式不正确")]})
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


@login_required
def blacklist(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    _require_blacklist(user)
    if request.method == "POST":
        try:
            data = services.BlacklistInput(
                number=request.POST.get("number", ""),
                reason=request.POST.get("reason", ""),
                direction=request.POST.get("direction", BlacklistDirection.INBOUND),
                treatment=request.POST.get("treatment", BlacklistTreatment.VOICEMAIL),
                treatment_target=request.POST.get("treatment_target", ""),
                expires_at=_expires(request.POST.get("expires_at", "")),
            )
            entry = services.blacklist_add(actor=user, data=data)
        except ServiceError as exc:
            report_error(request, exc)
        else:
            messages.success(request, _("号码 %(number)s 已加入黑名单。") % {"number": entry.number})
            return redirect("citizen-blacklist")
    number = request.GET.get("number", "").strip()
    active = request.GET.get("active", "")
    qs = selectors.blacklist_list(number=number, active=None if active == "" else active == "1")
    page = Paginator(qs.select_related("created_by"), 20).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "citizens/blacklist.html",
        {
            "page": page,
            "number": number,
            "active": active,
            "query": query.urlencode(),
            "directions": BlacklistDirection.choices,
            "treatments": BlacklistTreatment.choices,
            "form": request.POST if request.method == "POST" else {},
        },
    )


@login_required
@require_POST
def blacklist_remove(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    _require_blacklist(user)
    entry = BlacklistEntry.objects.filter(pk=pk).first()
    if entry is None:
        raise Http404
    services.blacklist_remove(entry=entry, actor=user)
    messages.success(request, _("号码 %(number)s 已移出黑名单。") % {"number": entry.number})
    return redirect("citizen-blacklist")


# --------------------------------------------------------------------------- import (good rows saved, bad rows reported)

IMPORTERS = {
    ImportKind.CITIZENS: (selectors.may_edit_citizens, "citizen-list"),
    ImportKind.CONTACTS: (selectors.may_edit_citizens, "citizen-list"),
    ImportKind.BLACKLIST: (selectors.may_manage_blacklist, "citizen-blacklist"),
}


@login_required
def import_file(request: HttpRequest, kind: str) -> HttpResponse:
    user = _user(request)
    if kind not in IMPORTERS:
        raise Http404
    allowed, back = IMPORTERS[ImportKind(kind)]
    if not allowed(user):
        raise PermissionDenied
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("请选择要导入的文件（.xlsx 或 .csv）。"))
        else:
            try:
                queued = jobs.import_queue(
                    kind=kind,
                    upload=upload,
                    actor=user,
                    dry_run=request.POST.get("dry_run") in {"on", "1", "true"},
                )
            except ServiceError as exc:
                report_error(request, exc)
            else:
                messages.success(request, _("文件已提交，正在后台导入；完成后本页显示逐行结果。"))
                return redirect(f"{request.path}?job={queued.pk}")
    job = None
    job_id = request.GET.get("job", "")
    if job_id.isdigit() and len(job_id) < 12:
        found = selectors.import_jobs(user=user).filter(pk=int(job_id), kind=kind).first()
        job = jobs.job_data(found) if found else None
    finished = bool(job and job["status"] in (ImportStatus.DONE, ImportStatus.FAILED))
    columns = {
        ImportKind.CITIZENS: importexport.CITIZEN_COLUMNS,
        ImportKind.CONTACTS: importexport.CONTACT_COLUMNS,
        ImportKind.BLACKLIST: importexport.BLACKLIST_COLUMNS,
    }[ImportKind(kind)]
    return render(
        request,
        "citizens/import.html",
        {
            "kind": kind,
            "kind_label": ImportKind(kind).label,
            "columns": columns,
            "job": job,
            "report": job if finished and job and job["status"] == ImportStatus.DONE else None,
            "polling": bool(job) and not finished,
            "back": back,
            "jobs": selectors.import_jobs(user=user).filter(kind=kind)[:10],
        },
    )
