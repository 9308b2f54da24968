"""The browsable API renderer (its own module: DRF settings import it while `rest_framework.views` loads)."""

from __future__ import annotations

from typing import Any

from rest_framework import renderers


def _has_serializer(view: Any) -> bool:
    return (
        getattr(view, "get_serializer", None) is None or getattr(view, "serializer_class", None) is not None
    )


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    """The browsable API for views that read their rows from a scoped selector in `get`.

    Such list views have no `queryset` and often no `serializer_class` (each method names its own input), and
    DRF's renderer asked them for both to draw its filter form and its raw-data form: the page answered 500.
    Without filter backends there is no filter form; without a view-wide serializer no generated form.
    """

    def get_filter_form(self, data: Any, view: Any, request: Any) -> Any:
        if not getattr(view, "filter_backends", None):
            return None
        return super().get_filter_form(data, view, request)

    def get_rendered_html_form(self, data: Any, view: Any, method: str, request: Any) -> Any:
        if not _has_serializer(view):
            return None
        return super().get_rendered_html_form(data, view, method, request)

    def get_raw_data_form(self, data: Any, view: Any, method: str, request: Any) -> Any:
        if not _has_serializer(view):
            return None
        return super().get_raw_data_form(data, view, method, request)
