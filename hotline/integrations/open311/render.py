"""GeoReport v2 answers in JSON or XML, with the standard's element names."""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree as ET

from django.http import HttpResponse

# The XML element of one item inside each list root, as the GeoReport v2 examples name them.
ITEM = {"services": "service", "service_requests": "request", "errors": "error", "attributes": "attribute",
        "values": "value", "endpoints": "endpoint", "formats": "format", "keywords": "keyword"}  # fmt: skip


def respond(fmt: str, root: str, data: Any, status: int = 200) -> HttpResponse:
    if fmt == "xml":
        element = _element(root, data)
        body = b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(
            element, encoding="utf-8", xml_declaration=False
        )
        return HttpResponse(body, status=status, content_type="text/xml; charset=utf-8")
    text = json.dumps(data, ensure_ascii=False, default=str)
    return HttpResponse(text, status=status, content_type="application/json; charset=utf-8")


def errors(fmt: str, status: int, *descriptions: str) -> HttpResponse:
    return respond(fmt, "errors", [{"code": status, "description": d} for d in descriptions], status=status)


def _element(tag: str, value: Any) -> ET.Element:
    element = ET.Element(tag)
    if isinstance(value, list):
        for item in value:
            element.append(_element(ITEM.get(tag, "item"), item))
    elif isinstance(value, dict):
        for key, child in value.items():
            element.append(_element(key, child))
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)
    return element
