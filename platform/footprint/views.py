"""Site-wide pages that belong to no app: sign-up."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model, login
from django.contrib.auth.forms import UserCreationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme


class SignupForm(UserCreationForm):
    """A user name, an email address (where a password reset link goes) and a password."""

    email = forms.EmailField(label="Email", help_text="Where a password reset link is sent; never shown.")

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")


def signup(request: HttpRequest) -> HttpResponse:
    """Create an account and log in, so that a researcher can submit right away."""
    if request.user.is_authenticated:
        return redirect("submission-new")
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
    if request.method == "POST":
        form = SignupForm(request.POST)
        if form.is_valid():
            user = form.save()
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect(next_url or "submission-new")
        return render(request, "registration/signup.html", {"form": form, "next": next_url}, status=400)
    return render(request, "registration/signup.html", {"form": SignupForm(), "next": next_url})
