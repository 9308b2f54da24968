"""News replies (图文消息) of the official account: the office's latest public announcements and knowledge search
results, each article linking to its page on the citizen portal.

A follower sends 公告 / 通知 / 最新公告 (or the menu key NEWS) for announcements, 知识 <words> (or 查询 <words>,
政策 <words>) to search the public knowledge base; the menu key KB explains the latter. The conversation hands the
articles to the endpoint encoded in its reply string (`encode` / `decode`), so a retried delivery gets the same
articles back from the stored reply like any text reply.
"""

from __future__ import annotations

import json
import os
import re

from django.urls import reverse
from django.utils.html import strip_tags

from hotline.bulletins import selectors as bulletin_selectors
from hotline.common.errors import ServiceError

from .protocol import MAX_ARTICLES, Article

MARK = "\x1enews:"
NEWS_WORDS = {"公告", "通知", "最新公告", "通知公告"}
MENU_NEWS = "NEWS"
MENU_KB = "KB"
KB_RE = re.compile(r"^\s*(?:知识|查询|政策)[\s:：]+(.{1,50})$")


def portal_url(path: str) -> str:
    """Absolute URL of a portal page (WeChat opens article links outside our site): HOTLINE_PORTAL_URL."""
    base = os.environ.get("HOTLINE_PORTAL_URL", "http://localhost:8000").rstrip("/")
    return base + path


def encode(articles: list[Article]) -> str:
    return MARK + json.dumps(
        [[a.title, a.description, a.url, a.pic_url] for a in articles[:MAX_ARTICLES]], ensure_ascii=False
    )


def decode(reply: str) -> list[Article] | None:
    if not reply.startswith(MARK):
        return None
    return [Article(*row) for row in json.loads(reply[len(MARK) :])]


def _summary(text: str, limit: int = 60) -> str:
    text = " ".join(strip_tags(text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def announcements() -> list[Article]:
    return [
        Article(
            title=b.subject[:64],
            description=_summary(b.body),
            url=portal_url(reverse("portal-announcement", args=[b.pk])),
        )
        for b in bulletin_selectors.public_announcements()[:MAX_ARTICLES]
    ]


def knowledge(query: str) -> list[Article]:
    from hotline.knowledge import selectors as kb_selectors

    try:
        page = kb_selectors.public_search(q=query, page=1, page_size=MAX_ARTICLES)
    except ServiceError:
        return []
    articles = []
    for hit in page.hits:
        item = page.items.get(hit.item_id)
        if item is None:
            continue
        articles.append(
            Article(
                title=strip_tags(hit.title_html)[:64] or str(item),
                description=_summary(hit.snippet_html),
                url=portal_url(reverse("portal-kb-item", args=[item.pk])),
            )
        )
    return articles
