"""The citizen portal's knowledge search: anonymous, public items only, throttled per client address.

Only items marked public, published, in state "normal", within their validity period and in an active
space are found or shown; every other item answers 404, whatever its directory grants say.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlencode

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from hotline.common.errors import NotFound, ServiceError
from hotline.common.http import get_or_404
from hotline.common.throttles import AnonymousAddressRateThrottle

from . import selectors

PAGE_SIZE = 10


class PortalThrottle(AnonymousAddressRateThrottle):
    """Per address (proxy rule, shared cache), for anonymous visitors (signed-in staff are not counted)."""

    scope = "kb_portal"
    rate = "60/min"


def _throttled(request: HttpRequest) -> HttpResponse | None:
    throttle = PortalThrottle()
    if throttle.allow_request(request, None):
        return None
    wait = throttle.wait()
    response = render(request, "knowledge/portal/throttled.html", {"wait": math.ceil(wait or 60)}, status=429)
    response["Retry-After"] = str(math.ceil(wait or 60))
    return response


def portal_search(request: HttpRequest) -> HttpResponse:
    if (limited := _throttled(request)) is not None:
        return limited
    q = request.GET.get("q", "")[:500]
    page_number = int(request.GET["page"]) if request.GET.get("page", "").isdigit() else 1
    context: dict[str, Any] = {"q": q, "searched": "q" in request.GET}
    if "q" in request.GET:
        try:
            result = selectors.public_search(q=q, page=max(1, min(page_number, 10_000)), page_size=PAGE_SIZE)
        except ServiceError as exc:
            context["error"] = exc.message
        else:
            pages = min(math.ceil(result.total / PAGE_SIZE), selectors.MAX_RESULT_WINDOW // PAGE_SIZE)
            context.update(
                {
                    "total": result.total,
                    "rows": [{"hit": h, "item": result.items.get(h.item_id)} for h in result.hits],
                    "page": page_number,
                    "pages": pages,
                    "previous_url": f"?{urlencode({'q': q, 'page': page_number - 1})}"
                    if page_number > 1
                    else "",
                    "next_url": f"?{urlencode({'q': q, 'page': page_number + 1})}"
                    if page_number < pages
                    else "",
                }
            )
    return render(request, "knowledge/portal/search.html", context)


def portal_item(request: HttpRequest, pk: int) -> HttpResponse:
    if (limited := _throttled(request)) is not None:
        return limited
    item = get_or_404(selectors.public_item_get, pk=pk)
    version = item.published_version
    attachments = list(version.attachments.all()) if version is not None else []
    return render(request, "knowledge/portal/item.html", {"item": item, "attachments": attachments})


def portal_attachment(request: HttpRequest, pk: int) -> FileResponse:
    if _throttled(request) is not None:
        raise Http404
    try:
        attachment = selectors.public_attachment_get(pk=pk)
        handle = attachment.file.open("rb")
    except (NotFound, FileNotFoundError) as exc:
        raise Http404 from exc
    return FileResponse(handle, as_attachment=True, filename=attachment.name)
