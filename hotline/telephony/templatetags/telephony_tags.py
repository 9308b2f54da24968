"""`{% tel_dial "case" case.pk %}`: a click-to-call button beside a phone number, for staff with a seat. The page
names the object, never the number: the server resolves it by object and the user's scope."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("telephony/_dial.html", takes_context=True)
def tel_dial(context: Any, source: str, pk: int) -> dict[str, Any]:
    from hotline.telephony import selectors

    request = context.get("request")
    user = getattr(request, "user", None)
    seated = bool(
        user is not None
        and user.is_authenticated
        and selectors.telephony_enabled()
        and selectors.agent_for_user(user=user) is not None
    )
    return {"seated": seated, "source": source, "pk": pk}
