from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from .dlr import valid_key
from .services import delivery_report


@csrf_exempt
@require_GET
def kannel_dlr(request: HttpRequest) -> HttpResponse:
    """Kannel calls this dlr-url with the deployment's key, our signed reference and its status code."""
    if not valid_key(request.GET.get("key", "")):
        return HttpResponse("forbidden", content_type="text/plain", status=403)
    message = delivery_report(
        reference=request.GET.get("ref", ""),
        status=request.GET.get("status", ""),
        answer=request.GET.get("answer", ""),
    )
    return HttpResponse(
        "ok" if message else "unknown", content_type="text/plain", status=200 if message else 404
    )
