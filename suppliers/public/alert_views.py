"""Suppliers' e-mail alerts under /udbud/abonnement/: public, no account, signed links.

Links in mails only ever show a page; the change happens on the page's button (POST),
so a mail scanner that opens links cannot confirm or unsubscribe anyone. The one
exception is RFC 8058 one-click unsubscribe: a mail client POSTs
``List-Unsubscribe=One-Click`` to the unsubscribe link without a CSRF token.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from suppliers.models import Subscription
from suppliers.public import alerts
from suppliers.public.alert_forms import SubscribeForm

logger = logging.getLogger(__name__)


def _token_problem(request: HttpRequest, error: alerts.TokenError) -> HttpResponse:
    return render(
        request,
        "public/alerts/link_problem.html",
        {"message": error.message, "expired": error.expired},
        status=400,
    )


def _initial(request: HttpRequest) -> dict:
    """Start from the portal's filter: /udbud/abonnement/?category=33100000&region=RM."""
    initial = {}
    category = request.GET.get("category", "")[:10]
    if category:
        initial["categories"] = category
    region = request.GET.get("region", "")[:10]
    if region:
        initial["regions"] = [region]
    return initial


@require_http_methods(["GET", "HEAD", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        form = SubscribeForm(initial=_initial(request))
        return render(request, "public/alerts/subscribe.html", {"form": form})
    form = SubscribeForm(request.POST)
    if not form.is_valid():
        return render(request, "public/alerts/subscribe.html", {"form": form}, status=400)
    try:
        alerts.subscription_request(
            email=form.cleaned_data["email"],
            categories=form.cleaned_data["categories"],
            regions=form.cleaned_data["regions"],
            language=(get_language() or "da")[:2],
            confirm_url=lambda token: request.build_absolute_uri(
                reverse("public:alerts_confirm", kwargs={"token": token})
            ),
        )
    except OSError:  # smtplib.SMTPException is an OSError
        logger.exception("alert confirmation mail not sent")
        form.add_error(
            None,
            _(
                "The confirmation e-mail could not be sent just now, so nothing was saved. "
                "Please try again later."
            ),
        )
        return render(request, "public/alerts/subscribe.html", {"form": form}, status=503)
    return redirect("public:alerts_sent")


def sent(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "public/alerts/sent.html",
        {"hours": alerts.confirm_max_age().total_seconds() // 3600},
    )


@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    try:
        subscription = alerts.subscription_from_token(token, purpose="confirm")
    except alerts.TokenError as error:
        return _token_problem(request, error)
    context = _context(subscription, token=alerts.manage_token(subscription))
    if request.method == "POST":
        alerts.subscription_confirm(subscription=subscription)
        return render(request, "public/alerts/confirmed.html", context)
    if subscription.is_active:
        return render(request, "public/alerts/confirmed.html", context)
    return render(request, "public/alerts/confirm.html", context)


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET: a page with a button. POST: stop the mails (the button, or RFC 8058 one-click)."""
    try:
        subscription = alerts.subscription_from_token(token, purpose="manage")
    except alerts.TokenError as error:
        return _token_problem(request, error)
    context = _context(subscription, token=token)
    if request.method == "POST":
        alerts.subscription_unsubscribe(subscription=subscription)
        return render(request, "public/alerts/unsubscribed.html", context)
    return render(request, "public/alerts/unsubscribe.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
def delete(request: HttpRequest, token: str) -> HttpResponse:
    """GET: a page with a button. POST: delete every subscription of the address."""
    try:
        subscription = alerts.subscription_from_token(token, purpose="manage")
    except alerts.TokenError as error:
        return _token_problem(request, error)
    if request.method == "POST":
        alerts.address_delete(subscription=subscription)
        return render(request, "public/alerts/deleted.html")
    return render(request, "public/alerts/delete.html", _context(subscription, token=token))


def _context(subscription: Subscription, *, token: str) -> dict:
    return {
        "subscription": subscription,
        "choices": alerts.describe_choices(subscription),
        "token": token,
    }
