"""The page where a researcher makes, lists and revokes personal API tokens."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from api.selectors import api_tokens, user_quotas
from api.services import api_token_create, api_token_revoke


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Where the token is used, e.g. 'CI of my paper'.")


@login_required
def tokens_page(request: HttpRequest) -> HttpResponse:
    new_key = None
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        made = api_token_create(user=request.user, name=form.cleaned_data["name"])
        # Shown in this answer only: the page is never cached, the key never stored.
        new_key = made.key
        form = TokenForm()
    response = render(
        request,
        "api/tokens.html",
        {
            "form": form,
            "tokens": api_tokens(user=request.user),
            "new_key": new_key,
            "quotas": user_quotas(user=request.user),
        },
        status=400 if form.errors else 200,
    )
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@login_required
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = api_tokens(user=request.user).filter(pk=token_id).first()
    if token is None:
        raise Http404("no such token")
    api_token_revoke(token=token)
    return redirect("api-tokens")
