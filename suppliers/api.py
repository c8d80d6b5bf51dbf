"""The contract registry over the REST API: the same services and rights as the browser.

Lists hold only what the user may read (officers and chiefs their own regions, the UFO
group and the secretariat every region); another region's contract answers 404. Writes
go through an input serializer to suppliers/services.py, which checks the actor's rights.
"""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from rfi import permissions
from rfi.api import (
    WRITE_ERRORS,
    CategoryCodeField,
    IsMember,
    code_field,
    read_only_slug,
    require,
)
from rfi.models import Region
from suppliers import selectors, services
from suppliers.models import Contract, ContractExtension, Supplier

MONEY = {"max_digits": 15, "decimal_places": 2}
DETAIL_WRITE_ERRORS = {**WRITE_ERRORS, 404: OpenApiResponse(description="No such contract.")}
# A service's field → the input serializer's field.
FIELD_MAP = {
    "identifier": "supplier_id",
    "name": "supplier_name",
    "country": "supplier_country",
    "supplier": "supplier_id",
    "tender": "tender_reference",
}


class SupplierSerializer(serializers.ModelSerializer):
    class Meta:
        model = Supplier
        fields = ["identifier", "name", "country", "is_sme", "updated_at"]
        read_only_fields = fields


class ExtensionSerializer(serializers.ModelSerializer):
    contract = serializers.PrimaryKeyRelatedField(read_only=True)
    region = serializers.CharField(source="contract.region.code", read_only=True)
    tender = serializers.CharField(
        source="contract.tender.reference", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = ContractExtension
        fields = [
            "id",
            "contract",
            "region",
            "tender",
            "extends_to",
            "notice_deadline",
            "decision",
            "decided_at",
        ]
        read_only_fields = fields


class ContractSerializer(serializers.ModelSerializer):
    region = read_only_slug("code")
    supplier = SupplierSerializer(read_only=True)
    category = read_only_slug("code", allow_null=True)
    category_label = serializers.CharField(source="category.label", read_only=True, default=None)
    effective_end = serializers.DateField(
        source="ends_on", read_only=True, help_text="The end including exercised extensions."
    )
    tender = read_only_slug("reference", allow_null=True)
    is_joint = serializers.BooleanField(read_only=True)
    owner = read_only_slug("username", allow_null=True)
    signed_by = read_only_slug("username", allow_null=True)
    offered_on = serializers.DateField(
        read_only=True,
        allow_null=True,
        help_text="A joint case's regional contract: the award date, or the day the region "
        "exercised its option.",
    )
    extensions = serializers.SerializerMethodField()

    class Meta:
        model = Contract
        fields = [
            "id",
            "region",
            "supplier",
            "title",
            "category",
            "category_label",
            "start_date",
            "end_date",
            "extended_until",
            "effective_end",
            "kind",
            "annual_value",
            "tender",
            "is_joint",
            "registered_after_the_fact",
            "created_at",
            "owner",
            "offered_on",
            "signed_on",
            "signed_by",
            "extensions",
        ]
        read_only_fields = fields

    @extend_schema_field(
        inline_serializer(
            "ContractExtensionBrief",
            fields={
                "id": serializers.IntegerField(),
                "extends_to": serializers.DateField(),
                "notice_deadline": serializers.DateField(),
                "decision": serializers.ChoiceField(choices=ContractExtension.Decision.choices),
            },
            many=True,
        )
    )
    def get_extensions(self, contract) -> list[dict]:
        return [
            {
                "id": e.pk,
                "extends_to": e.extends_to,
                "notice_deadline": e.notice_deadline,
                "decision": e.decision,
            }
            for e in contract.extensions.all()
        ]


class ContractInputSerializer(serializers.Serializer):
    region = code_field(Region.objects.filter(active=True))
    supplier_id = serializers.CharField(
        max_length=24, help_text="CVR number (8 digits) or another country's org number."
    )
    supplier_name = serializers.CharField(
        max_length=300,
        required=False,
        allow_blank=True,
        default="",
        help_text="Required for a new supplier; updates the name of a known one.",
    )
    supplier_country = serializers.CharField(
        max_length=2, required=False, default="DK", help_text="Two letters: DK, SE, NO, ..."
    )
    title = serializers.CharField(max_length=300)
    category = CategoryCodeField(help_text="CPV code, e.g. 33141000 or 33141000-0")
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    extended_until = serializers.DateField(required=False, allow_null=True)
    kind = serializers.ChoiceField(choices=Contract.Kind.choices, required=False)
    annual_value = serializers.DecimalField(**MONEY, min_value=0, required=False, allow_null=True)
    tender_reference = serializers.CharField(
        max_length=20,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="The joint tender case's reference; empty for the region's own tender.",
    )
    registered_after_the_fact = serializers.BooleanField(required=False)


SUPPLIER_INPUTS = ("supplier_id", "supplier_name", "supplier_country")


class ContractViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Contracts the user may read, filtered like the registry's list page."""

    serializer_class = ContractSerializer
    permission_classes = [IsMember]
    filterset_class = selectors.ContractFilter
    service_field_map = FIELD_MAP
    http_method_names = ["get", "post", "patch", "head", "options"]
    queryset = Contract.objects.none()  # the schema's model; get_queryset() answers

    def get_queryset(self):
        contracts = selectors.contracts_visible_to(self.request.user)
        contracts = contracts.select_related("owner", "signed_by").prefetch_related("extensions")
        return contracts.order_by("region__code", "ends_on", "pk")

    @extend_schema(
        request=ContractInputSerializer, responses={201: ContractSerializer, **WRITE_ERRORS}
    )
    def create(self, request, *args, **kwargs):
        """Register a contract: officers for their own region, the secretariat for any."""
        require(permissions.can_register_contract(request.user))
        data = self._validated(ContractInputSerializer(data=request.data))
        contract = self._save(request.user, data, None)
        return Response(self._read(contract), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ContractInputSerializer, responses={200: ContractSerializer, **DETAIL_WRITE_ERRORS}
    )
    def partial_update(self, request, *args, **kwargs):
        """Change a contract: its region's officers and the secretariat."""
        contract = self.get_object()
        require(permissions.can_edit_contract(request.user, contract))
        data = self._validated(ContractInputSerializer(data=request.data, partial=True))
        contract = self._save(request.user, data, contract)
        return Response(self._read(contract))

    def _save(self, actor, data: dict, contract: Contract | None) -> Contract:
        fields = {k: v for k, v in data.items() if k not in SUPPLIER_INPUTS}
        if "tender_reference" in fields:
            fields["tender"] = fields.pop("tender_reference") or None
        with transaction.atomic():
            if contract is None or "supplier_id" in data:
                current = contract.supplier if contract is not None else None
                fields["supplier"] = services.supplier_upsert(
                    actor=actor,
                    identifier=data["supplier_id"],
                    name=data.get("supplier_name", ""),
                    country=data.get("supplier_country") or (current.country if current else "DK"),
                )
            if contract is None:
                return services.contract_create(actor=actor, **fields)
            return services.contract_update(
                contract=contract,
                actor=actor,
                **fields,
            )

    def _read(self, contract: Contract) -> dict:
        return self.get_serializer(self.get_queryset().get(pk=contract.pk)).data

    @staticmethod
    def _validated(serializer) -> dict:
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


class SupplierViewSet(viewsets.ReadOnlyModelViewSet):
    """The supplier register: one supplier per identifier (CVR number in Denmark)."""

    queryset = selectors.supplier_list()
    serializer_class = SupplierSerializer
    permission_classes = [IsMember]
    filterset_class = selectors.SupplierFilter
    lookup_field = "identifier"
    lookup_value_regex = "[A-Za-z0-9-]{1,20}"


class ExtensionViewSet(viewsets.ReadOnlyModelViewSet):
    """Extension options of the contracts the user may read, with their notice deadlines."""

    serializer_class = ExtensionSerializer
    permission_classes = [IsMember]
    filterset_class = selectors.ExtensionFilter
    queryset = ContractExtension.objects.none()  # the schema's model; get_queryset() answers

    def get_queryset(self):
        return selectors.extensions_visible_to(self.request.user).order_by("notice_deadline", "pk")
