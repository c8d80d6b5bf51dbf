"""Reads of the reference data shared by pages and the API."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from knox.models import AuthToken

from rfi.models import Category, Membership


def category_search(*, query: str, queryset: QuerySet[Category] | None = None):
    """Categories whose code starts with the digits typed, or whose Danish/English label matches."""
    queryset = Category.objects.all() if queryset is None else queryset
    query = (query or "").strip()
    if not query:
        return queryset
    digits = query.replace("-", "")
    if digits.isdigit():
        return queryset.filter(code__startswith=digits[:8])
    condition = Q()
    for word in query.split():
        condition &= Q(label_da__icontains=word) | Q(label_en__icontains=word)
    return queryset.filter(condition)


class CategoryFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Code or label (Danish or English)")
    parent = django_filters.CharFilter(field_name="parent__code", label="Parent CPV code")
    level = django_filters.NumberFilter(field_name="level")

    class Meta:
        model = Category
        fields = ["q", "parent", "level"]

    def filter_q(self, queryset, name, value):
        return category_search(query=value, queryset=queryset)


def memberships_of(*, user) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("region").order_by("region__code")


def api_tokens_of(*, user):
    """The user's API tokens that still work, newest first (the secret itself is never kept)."""
    return AuthToken.objects.filter(user=user, expiry__gt=timezone.now()).order_by("-created")
