"""Site-wide pages that belong to no app: sign-up, login, and the answer to a rate limit."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import UserCreationForm
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django_ratelimit.decorators import ratelimit

from footprint.ratelimits import client_address, login_rate, signup_rate

# When a client blocked by a rate limit may try again: the limits count per hour.
RATE_LIMIT_RETRY_S = 3600


def rate_limited(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """settings.RATELIMIT_VIEW: a 429 that says why, as JSON under /api/, as a page elsewhere."""
    message = "too many attempts from here in a short time; wait and try again"
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {"error": {"code": "rate_limited", "message": message, "fields": {}}}, status=429
        )
    else:
        response = render(request, "rate_limited.html", {"message": message}, status=429)
    response["Retry-After"] = str(RATE_LIMIT_RETRY_S)
    return response


@method_decorator(ratelimit(key=client_address, rate=login_rate, method="POST", block=True), name="post")
class LoginView(auth_views.LoginView):
    """Django's login, with a rate limit per address on attempts."""


class SignupForm(UserCreationForm):
    """A user name, an email address (where a password reset link goes) and a password."""

    email = forms.EmailField(label="Email", help_text="Where a password reset link is sent; never shown.")

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")


@ratelimit(key=client_address, rate=signup_rate, method="POST", block=True)
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
