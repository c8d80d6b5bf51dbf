"""The reference data over the REST API (read for members, write for the secretariat)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import api_view
from rest_framework.response import Response

from rfi.models import Category, Membership, PartnerBody, Region
from rfi.permissions import ReferenceDataPermission, is_secretariat
from rfi.selectors import CategoryFilter, memberships_of


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
