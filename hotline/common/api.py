"""API plumbing shared by every package: error translation, pagination, request context."""

from __future__ import annotations

import copy
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.http import Http404
from django.utils.encoding import force_str
from django.utils.translation import get_language
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


class ChoiceDisplayField(serializers.CharField):
    """A model field's `get_FOO_display()` (the choice's label in the active language, else the value itself),
    from labels cached per field and language: Django's own builds a dict of every choice and translates each
    label on every call (a status has 15), which showed in the intake's answer."""

    _labels: dict[tuple[models.Field[Any, Any], str | None], dict[Any, str]] = {}

    def __init__(self, model_field: models.Field[Any, Any], **kwargs: Any) -> None:
        kwargs.setdefault("source", model_field.attname)
        self.model_field = model_field
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> Any:
        return choice_display(self.model_field, value)


def choice_display(model_field: models.Field[Any, Any], value: Any) -> Any:
    """What `instance.get_<field>_display()` returns for `value`, its labels cached per language."""
    key = (model_field, get_language())
    labels = ChoiceDisplayField._labels.get(key)
    if labels is None:
        labels = {k: force_str(v) for k, v in model_field.flatchoices}
        ChoiceDisplayField._labels[key] = labels
    try:
        label = labels.get(value, value)
    except TypeError:  # an unhashable value: never a choice
        label = value
    return force_str(label, strings_only=True)


def _shallow_copy(field: serializers.Field) -> serializers.Field:
    """`copy.copy` of a field (DRF fields define no `__copy__` and keep their state in `__dict__`), without the
    generic `__reduce_ex__` round trip: a request to the wide serializers copies dozens of fields."""
    new = object.__new__(type(field))
    new.__dict__.update(field.__dict__)
    return new
