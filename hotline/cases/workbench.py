"""Workbench screens beside the case loop: the printed 交办单, hot questions, revealing a caller's number,
opening a notice. Thin: parse, call one service or selector, render."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from hotline.common.errors import ServiceError
from hotline.common.http import error_text, get_or_404
from hotline.common.paging import paginate
from hotline.notify.services import inbox_link, inbox_mark_read
from hotline.orgs.http import request_user

from . import masking, selectors, services
from .models import AssignmentRole
from .services.contact import case_reveal_phone


@login_required
def case_print(request: HttpRequest, pk: int) -> HttpResponse:
    """The formal 交办单 of a case (A4), masked as on the case page; printing it is a view, audited."""
    user = request_user(request)
    case = get_or_404(selectors.case_get_for_display, user=user, pk=pk)
    services.case_record_view(case=case, actor=user)
    assignments = [a for a in selectors.case_assignments(case=case) if a.role != AssignmentRole.CC]
    return render(
        request,
        "cases/print_case.html",
        {
            "case": case,
            "assignments": assignments,
            "main": next(
                (a for a in assignments if a.parent_id is None and a.role == AssignmentRole.MAIN), None
            ),
            "assisting": [
                a for a in assignments if a.parent_id is None and a.role == AssignmentRole.ASSISTING
            ],
            "cc": selectors.case_assignments(case=case).filter(role=AssignmentRole.CC),
            "caller": masking.caller(case, user),
            "printed_at": timezone.now(),
        },
    )


@login_required
@require_POST
def case_reveal_phone_view(request: HttpRequest, pk: int) -> HttpResponse:
    """查看号码 (htmx): the full number in place of the masked one, or the refusal."""
    user = request_user(request)
    case = get_or_404(selectors.case_get, user=user, pk=pk)
    try:
        phone = case_reveal_phone(case=case, actor=user)
    except ServiceError as exc:
        return render(request, "cases/_revealed_phone.html", {"error": error_text(exc)}, status=403)
    return render(request, "cases/_revealed_phone.html", {"phone": phone})


@login_required
def hot_questions(request: HttpRequest) -> HttpResponse:
    """CLS-4: the public cases marked as hot questions (the portal reads the same list through the API)."""
    page = paginate(request, selectors.hot_questions())
    for case in page.object_list:
        case.public_reply = selectors.public_reply(case)
    return render(request, "cases/hot_questions.html", {"page": page})


@login_required
def notice_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Clicking a notice marks it read and follows its link (on this site only)."""
    user = request_user(request)
    found = inbox_link(user=user, pk=pk)
    if found is None:
        raise Http404  # someone else's notice
    inbox_mark_read(user=user, ids=[pk])
    link = found or ""
    if link and url_has_allowed_host_and_scheme(link, allowed_hosts={request.get_host()}):
        return redirect(link)
    return redirect("home")
