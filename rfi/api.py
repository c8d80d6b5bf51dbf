"""The reference data over the REST API, and the pieces every app's API uses.

The shared kit: ``IsMember``, ``CategoryCodeField`` (CPV codes with a checked check
digit), the write-error schema and ``exception_handler``, which answers a service's
ValidationError with 400 and its PermissionDenied with 403 (HackSoft Django-Styleguide,
"Errors & exception handling"), so API views call services directly.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, viewsets
from rest_framework.decorators import api_view
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from rfi import permissions
from rfi.cpv import category_by_code
from rfi.models import Category, Membership, PartnerBody, Region
from rfi.permissions import ReferenceDataPermission, is_secretariat
from rfi.selectors import CategoryFilter, memberships_of

# Documented on every write: the bodies are DRF's usual {"field": ["message", ...]}.
WRITE_ERRORS = {
    400: OpenApiResponse(description="Refused: the messages by field (non_field_errors else)."),
    403: OpenApiResponse(description="Not allowed for this user (rfi/permissions.py)."),
}


class IsMember(BasePermission):
    """The collaboration's data is for its members; a user without a role gets 403."""

    def has_permission(self, request, view) -> bool:
        return permissions.can_view_internal_pages(request.user)


def require(allowed: bool) -> None:
    """403 unless the rights function (rfi/permissions.py) allowed it."""
    if not allowed:
        raise exceptions.PermissionDenied()


class CategoryCodeField(serializers.SlugRelatedField):
    """A CPV category by its code, with or without the check digit (33141000 or 33141000-0).

    A wrong check digit is refused (400), as in the browser's forms.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "code")
        kwargs.setdefault("queryset", Category.objects.all())
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, str | int):
            self.fail("invalid")
        queryset = self.get_queryset()
        try:
            return category_by_code(
                str(data), lookup=lambda code: queryset.filter(code=code).first()
            )
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from error


def code_field(queryset, **kwargs):
    """A related object written by its code (regions, partner bodies, reasons…)."""
    return serializers.SlugRelatedField(slug_field="code", queryset=queryset, **kwargs)


def read_only_slug(slug_field: str, **kwargs):
    return serializers.SlugRelatedField(slug_field=slug_field, read_only=True, **kwargs)


def validation_detail(
    error: DjangoValidationError, field_map: dict[str, str] | None = None
) -> dict[str, list[str]]:
    """A service's ValidationError as DRF's body: messages by field, non_field_errors else."""
    if not hasattr(error, "error_dict"):
        return {"non_field_errors": error.messages}
    detail: dict[str, list[str]] = {}
    for key, messages in error.message_dict.items():
        name = (field_map or {}).get(key, key)
        if name == "__all__":
            name = "non_field_errors"
        detail.setdefault(name, []).extend(messages)
    return detail


def _service_field_map(view) -> dict[str, str] | None:
    """The view's renaming of a service's fields to its input's (``identifier`` → ``supplier_id``)."""
    if view is None:
        return None
    if hasattr(view, "get_service_field_map"):
        return view.get_service_field_map()
    return getattr(view, "service_field_map", None)


def exception_handler(exc, context):
    """DRF's handler, also answering a service's ValidationError (400) and PermissionDenied (403).

    The 403 keeps the service's message; the 400 names the fields as the view's input
    does (``service_field_map`` on the view).
    """
    if isinstance(exc, DjangoValidationError):
        detail = validation_detail(exc, _service_field_map(context.get("view")))
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    return drf_exception_handler(exc, context)


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["id", "code", "name_da", "name_en", "active"]


class PartnerBodySerializer(serializers.ModelSerializer):
    class Meta:
        model = PartnerBody
        fields = ["id", "code", "name_da", "name_en", "kind", "is_medicine_body", "active"]


class CategorySerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    kind = serializers.CharField(read_only=True)

    class Meta:
        model = Category
        fields = ["code", "check_digit", "label_da", "label_en", "level", "parent", "kind"]


class RegionViewSet(viewsets.ModelViewSet):
    queryset = Region.objects.all()
    serializer_class = RegionSerializer
    permission_classes = [ReferenceDataPermission]
    filterset_fields = ["active", "code"]
    http_method_names = ["get", "post", "patch", "head", "options"]


class PartnerBodyViewSet(viewsets.ModelViewSet):
    queryset = PartnerBody.objects.all()
    serializer_class = PartnerBodySerializer
    permission_classes = [ReferenceDataPermission]
    filterset_fields = ["active", "kind", "is_medicine_body"]
    http_method_names = ["get", "post", "patch", "head", "options"]


class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    """The CPV 2008 tree; search with ?q= (code prefix or Danish/English words)."""

    queryset = Category.objects.select_related("parent")
    serializer_class = CategorySerializer
    permission_classes = [ReferenceDataPermission]
    filterset_class = CategoryFilter
    lookup_field = "code"
    lookup_value_regex = "[0-9]{8}"


class MembershipSerializer(serializers.ModelSerializer):
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Membership
        fields = ["region", "role"]


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    is_secretariat = serializers.BooleanField()
    memberships = MembershipSerializer(many=True)


@extend_schema(responses=MeSerializer)
@api_view(["GET"])
def me(request):
    """The signed-in user's regions and roles."""
    data = {
        "username": request.user.get_username(),
        "is_secretariat": is_secretariat(request.user),
        "memberships": memberships_of(user=request.user),
    }
    return Response(MeSerializer(data).data)
