"""OPTIONS answers for views that read from scoped selectors and name their input per method.

DRF's SimpleMetadata describes the POST/PUT body from the view's `serializer_class`; such views have none (each
method declares its own input, documented in the OpenAPI schema), and DRF answered OPTIONS with a 500. They answer
with the name, description and media types only; the schema at /api/v1/schema/ describes their bodies.
"""

from __future__ import annotations

from typing import Any

from rest_framework.metadata import SimpleMetadata


class SelectorViewMetadata(SimpleMetadata):
    def determine_actions(self, request: Any, view: Any) -> dict[str, Any]:
        if (
            getattr(view, "serializer_class", None) is None
            and "get_serializer_class" not in type(view).__dict__
        ):
            return {}
        return super().determine_actions(request, view)
