"""API plumbing shared by every package: error translation, pagination, request context."""

from __future__ import annotations

import copy
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, pagination, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import ServiceError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ServiceError):
        body: dict[str, Any] = {"detail": exc.message, "code": exc.code}
        if exc.field_errors:
            body["errors"] = exc.field_errors
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            errors = {field: [str(m) for m in msgs] for field, msgs in exc.message_dict.items()}
            return Response({"detail": _("输入有误"), "code": "invalid", "errors": errors}, status=400)
        return Response({"detail": "；".join(exc.messages), "code": "invalid"}, status=400)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("未找到"))
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.ValidationError):
        response.data = {"detail": _("输入有误"), "code": "invalid", "errors": response.data}
    return response


class Pagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


class CachedFieldsMixin:
    """Build a ModelSerializer's fields once per class instead of on every instance.

    DRF introspects the model for every serializer it instantiates; for the wide case serializers that is
    a large share of a request. Each instance gets its own copies of the (never bound) cached fields, since
    binding writes the parent into a field: plain fields are copied shallowly (binding only reassigns their
    attributes), nested serializers deeply (their children point to their parent).
    """

    def get_fields(self) -> dict[str, Any]:
        cls = type(self)
        cached = cls.__dict__.get("_cached_fields")
        if cached is None:
            cached = super().get_fields()  # type: ignore[misc]
            cls._cached_fields = cached  # type: ignore[attr-defined]
        return {
            name: copy.deepcopy(field)
            if isinstance(field, serializers.BaseSerializer)
            else _shallow_copy(field)
            for name, field in cached.items()
        }


def _shallow_copy(field: serializers.Field) -> serializers.Field:
    """`copy.copy` of a field (DRF fields define no `__copy__` and keep their state in `__dict__`), without the
    generic `__reduce_ex__` round trip: a request to the wide serializers copies dozens of fields."""
    new = object.__new__(type(field))
    new.__dict__.update(field.__dict__)
    return new
