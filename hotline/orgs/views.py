"""The signed-in user's own account screens."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from .http import request_user
from .tokens import token_list, token_revoke


@login_required
def account_tokens(request: HttpRequest) -> HttpResponse:
    """我的 API 令牌: see the token, when it expires, and revoke it."""
    user = request_user(request)
    if request.method == "POST":
        if token_revoke(user=user, prefix=request.POST.get("prefix", "")):
            messages.success(request, _("令牌已撤销，使用它的程序需要重新获取令牌。"))
        else:
            messages.error(request, _("令牌不存在"))
        return redirect("account-tokens")
    return render(request, "orgs/tokens.html", {"tokens": token_list(user=user)})
