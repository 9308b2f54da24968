"""Paging for every list on the screens: the true count, and links that keep the other query parameters."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.http import HttpRequest

PER_PAGE = 20


def paginate(request: HttpRequest, rows: Any, *, param: str = "page", per_page: int = PER_PAGE) -> Page:
    """One page of `rows` (a QuerySet or list) chosen by the request's `param`; out-of-range → the last page.

    The page remembers its parameter and the request's other parameters, for `common/_pagination.html`.
    """
    page = Paginator(rows, per_page).get_page(request.GET.get(param))
    others = request.GET.copy()
    others.pop(param, None)
    page.param = param  # type: ignore[attr-defined]
    page.base_query = others.urlencode()  # type: ignore[attr-defined]
    return page
