"""Bulletin screens: inbox, sent, drafts, review queue, compose, read."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotAllowed,
)
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from hotline.common.audit import audit_record
from hotline.common.errors import NotFound, ServiceError
from hotline.common.http import error_text, private_download
from hotline.common.paging import paginate
from hotline.orgs.http import request_user

from . import selectors, services
from .forms import BulletinForm
from .models import Bulletin
from .permissions import may_review, review_threshold


def _get(request: HttpRequest, pk: int) -> Bulletin:
    try:
        return selectors.bulletin_get(user=request_user(request), pk=pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _list(request: HttpRequest, box: str, rows: Any) -> HttpResponse:
    user = request_user(request)
    return render(
        request,
        "bulletins/list.html",
        {
            "box": box,
            "page": paginate(request, rows),
            "q": request.GET.get("q", ""),
            "unread": selectors.unread_count(user=user),
            "review_count": selectors.review_queue(user=user).count(),
            "may_review": may_review(user),
        },
    )


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    rows = selectors.inbox(
        user=user, q=request.GET.get("q", ""), unread=request.GET.get("unread") == "1",
        favourites=request.GET.get("fav") == "1",
    )  # fmt: skip
    return _list(request, "inbox", rows)


@login_required
def sent(request: HttpRequest) -> HttpResponse:
    return _list(request, "sent", selectors.outbox(user=request_user(request), q=request.GET.get("q", "")))


@login_required
def drafts(request: HttpRequest) -> HttpResponse:
    return _list(request, "drafts", selectors.drafts(user=request_user(request)))


@login_required
def review(request: HttpRequest) -> HttpResponse:
    if not may_review(request_user(request)):
        raise Http404
    return _list(request, "review", selectors.review_queue(user=request_user(request)))


@login_required
def compose(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    user = request_user(request)
    bulletin = _get(request, pk) if pk else None
    if bulletin is not None and bulletin.sender_id != user.pk:
        raise Http404
    initial = _initial(request, bulletin)
    form = BulletinForm(request.POST or None, initial=initial)
    form.fields["units"].help_text = form.fields["units"].help_text % {"n": review_threshold()}
    if request.method == "POST" and form.is_valid():
        data = services.BulletinInput(
            kind=form.cleaned_data["kind"], subject=form.cleaned_data["subject"], body=form.cleaned_data["body"],
            units=list(form.cleaned_data["units"]), users=initial.get("users", []),
            attachments=request.FILES.getlist("attachments"), reply_to=initial.get("reply_to"),
            forwarded_from=initial.get("forwarded_from"), is_public=form.cleaned_data["is_public"],
            public_from=form.cleaned_data["public_from"], public_until=form.cleaned_data["public_until"],
        )  # fmt: skip
        try:
            saved = services.bulletin_save_draft(actor=user, data=data, bulletin=bulletin)
            if "send" in request.POST:
                saved = services.bulletin_send(actor=user, bulletin=saved)
                return redirect("bulletin-detail", pk=saved.pk)
            return redirect("bulletin-drafts")
        except ServiceError as exc:
            _errors_to_form(form, exc)
    return render(
        request,
        "bulletins/compose.html",
        {"form": form, "bulletin": bulletin, "to_users": initial.get("users", [])},
    )


def _initial(request: HttpRequest, bulletin: Bulletin | None) -> dict[str, Any]:
    user = request_user(request)
    if bulletin is not None:
        return {
            "kind": bulletin.kind, "subject": bulletin.subject, "body": bulletin.body,
            "units": list(bulletin.to_units.all()), "users": list(bulletin.to_users.all()),
            "reply_to": bulletin.reply_to, "forwarded_from": bulletin.forwarded_from,
            "is_public": bulletin.is_public, "public_from": bulletin.public_from,
            "public_until": bulletin.public_until,
        }  # fmt: skip
    source = request.GET.get("reply") or request.GET.get("reply_all") or request.GET.get("forward")
    if not (source and source.isdigit()):
        return {}
    original = _get(request, int(source))
    if request.GET.get("forward"):
        data = services.forward_input(original=original)
    else:
        data = services.reply_input(
            actor=user, original=original, reply_all=bool(request.GET.get("reply_all"))
        )
    return {
        "kind": data.kind, "subject": data.subject, "body": data.body, "units": list(data.units),
        "users": list(data.users), "reply_to": data.reply_to, "forwarded_from": data.forwarded_from,
    }  # fmt: skip


def _errors_to_form(form: BulletinForm, exc: ServiceError) -> None:
    for name, messages in exc.field_errors.items():
        for message in messages:
            form.add_error(name if name in form.fields else None, message)
    if not exc.field_errors:
        form.add_error(None, exc.message)


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    bulletin = _get(request, pk)
    services.bulletin_mark_read(actor=user, bulletin=bulletin)
    return render(
        request,
        "bulletins/detail.html",
        {
            "bulletin": bulletin,
            "mine": selectors.recipient_row(user=user, bulletin=bulletin),
            "read_status": selectors.read_status(user=user, bulletin=bulletin),
            "may_review": may_review(user)
            and bulletin.status == "pending"
            and not (bulletin.is_public and bulletin.sender_id == user.pk),
            "attachments": bulletin.attachments.all(),
            "error": request.GET.get("error", "")[:200],
        },
    )


@login_required
def act(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    bulletin = _get(request, pk)  # 404 first: a bulletin one may not see answers the same to every method
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    action = request.POST.get("action", "")
    try:
        if action == "send":
            services.bulletin_send(actor=user, bulletin=bulletin)
        elif action in ("approve", "reject"):
            services.bulletin_review(
                actor=user,
                bulletin=bulletin,
                approve=action == "approve",
                opinion=request.POST.get("opinion", ""),
            )
        elif action in ("favourite", "unfavourite"):
            services.bulletin_set_favourite(actor=user, bulletin=bulletin, favourite=action == "favourite")
        elif action == "delete":
            services.bulletin_delete(actor=user, bulletin=bulletin)
            return redirect("bulletin-inbox")
        else:
            return HttpResponseBadRequest(_("未知的操作"))
    except ServiceError as exc:
        return redirect(f"{request.path.rsplit('/act/', 1)[0]}/?error={error_text(exc)[:150]}")
    return redirect("bulletin-detail", pk=pk)


@login_required
def attachment(request: HttpRequest, pk: int) -> FileResponse:
    user = request_user(request)
    try:
        item = selectors.attachment_get(user=user, pk=pk)
        handle = item.file.open("rb")
    except (NotFound, FileNotFoundError) as exc:
        raise Http404 from exc
    audit_record(actor=user, action="view", obj=item, summary=f"下载公告附件 {item.name}"[:255])
    return private_download(handle, filename=item.name, content_type=item.content_type)


@login_required
def unread_badge(request: HttpRequest) -> HttpResponse:
    count = selectors.unread_count(user=request_user(request))
    return render(request, "bulletins/_unread.html", {"count": count})
