"""OpenAPI helpers shared by every package's API: answers that are files or free-form objects."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# An export answers an xlsx or a csv file, by the `file_format` query parameter.
FILE_RESPONSES: dict[int | tuple[int, str], object] = {
    (200, XLSX): OpenApiTypes.BINARY,
    (200, "text/csv"): OpenApiTypes.BINARY,
}

NO_CONTENT = {204: OpenApiResponse(description="已删除")}


def free_object(name: str, *, many: bool = False) -> serializers.Serializer:
    """An object whose keys vary (statistics by unit, a screen pop's layout-driven panels)."""
    return inline_serializer(name=name, fields={}, many=many)
