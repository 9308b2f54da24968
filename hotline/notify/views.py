from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from .services import delivery_report


@csrf_exempt
@require_GET
def kannel_dlr(request: HttpRequest) -> HttpResponse:
    """Kannel calls this dlr-url with our reference and its status code."""
    message = delivery_report(
        reference=request.GET.get("ref", ""),
        status=request.GET.get("status", ""),
        answer=request.GET.get("answer", ""),
    )
    return HttpResponse(
        "ok" if message else "unknown", content_type="text/plain", status=200 if message else 404
    )
