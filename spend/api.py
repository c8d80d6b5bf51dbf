"""Spend over the REST API: aggregates and ledger lines (read-only), mapping and exclusion rules.

Rights as in the browser (rfi.permissions): a region's own people and the secretariat
read its lines and figures; chiefs, UFO members and the secretariat also read all
regions added up (``region=all``). Rules are readable by every member; a region's
officers write its rules, the secretariat every rule and the common ones.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from rfi import permissions
from rfi.api import CategoryCodeField, IsMember
from rfi.models import Region
from spend import rules, selectors
from spend.importer.errors import ImportRefused
from spend.importer.pipeline import (
    ledger_batch_cancel,
    ledger_batch_confirm,
    ledger_replacement_check,
    ledger_upload,
)
from spend.importer.preview import ReplacementPreview
from spend.importer.upload import LedgerUploadLimit
from spend.models import ExclusionRule, ImportBatch, LedgerLine, MappingRule
from spend.scope import spend_scope, viewable_regions
from spend.selectors import ledger_batches_visible_to

MONEY = {"max_digits": 17, "decimal_places": 2}
SHARE = {"max_digits": 5, "decimal_places": 1, "allow_null": True}


# Aggregates ------------------------------------------------------------------------------------

SCOPE_PARAMETERS = [
    OpenApiParameter(
        "region",
        OpenApiTypes.STR,
        description="Region code, or 'all' (chiefs, UFO members, the secretariat). "
        "Default: the user's own region; all regions for the secretariat.",
    ),
    OpenApiParameter(
        "year", OpenApiTypes.INT, description="Calendar year. Default: the newest with spend."
    ),
]
SCOPE_ERRORS = {
    403: OpenApiResponse(description="The user may not see this region's spend."),
    404: OpenApiResponse(description="No region with this code."),
}


class ScopeSerializer(serializers.Serializer):
    region = serializers.CharField(help_text="Region code, or 'all'.")
    year = serializers.IntegerField()


class TotalsSerializer(ScopeSerializer):
    total = serializers.DecimalField(
        **MONEY, help_text="Addressable spend (excluded lines left out)."
    )
    lines = serializers.IntegerField()
    suppliers = serializers.IntegerField()
    unclassified = serializers.DecimalField(**MONEY)
    unclassified_share = serializers.DecimalField(**SHARE)
    supplier_matched_total = serializers.DecimalField(**MONEY)
    supplier_matched_share = serializers.DecimalField(**SHARE)
    category_matched_total = serializers.DecimalField(**MONEY)
    category_matched_share = serializers.DecimalField(**SHARE)
    off_contract = serializers.DecimalField(**MONEY)
    excluded = serializers.DecimalField(**MONEY, help_text="Spend on excluded lines.")


class CategoryRowSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="8-digit CPV code of the node; empty for unclassified lines."
    )
    digits = serializers.CharField(
        help_text="The CPV digits of this level (drill down with prefix)."
    )
    label = serializers.CharField()
    unspecified = serializers.BooleanField(help_text="Lines coded at the parent level itself.")
    total = serializers.DecimalField(**MONEY)
    share = serializers.DecimalField(**SHARE)
    supplier_matched_total = serializers.DecimalField(**MONEY)
    category_matched_total = serializers.DecimalField(**MONEY)
    lines = serializers.IntegerField()


class ByCategorySerializer(ScopeSerializer):
    prefix = serializers.CharField()
    rows = CategoryRowSerializer(many=True)


class SupplierRowSerializer(serializers.Serializer):
    supplier_id = serializers.CharField()
    supplier_name = serializers.CharField()
    total = serializers.DecimalField(**MONEY)
    share = serializers.DecimalField(**SHARE)
    supplier_matched_total = serializers.DecimalField(**MONEY)
    category_matched_total = serializers.DecimalField(**MONEY)
    lines = serializers.IntegerField()


class ParetoPointSerializer(serializers.Serializer):
    given = serializers.IntegerField(help_text="The given share in %.")
    result = serializers.DecimalField(**SHARE)


class BySupplierSerializer(ScopeSerializer):
    total = serializers.DecimalField(**MONEY)
    suppliers = serializers.IntegerField()
    rows = SupplierRowSerializer(many=True)
    top_suppliers_spend_share = ParetoPointSerializer(
        many=True, help_text="The top given % of suppliers carry the resulting % of spend."
    )
    spend_share_suppliers_needed = ParetoPointSerializer(
        many=True, help_text="The given % of spend needs the resulting % of suppliers."
    )


class MonthRowSerializer(serializers.Serializer):
    month = serializers.IntegerField(min_value=1, max_value=12)
    total = serializers.DecimalField(**MONEY)
    supplier_matched_total = serializers.DecimalField(**MONEY)
    category_matched_total = serializers.DecimalField(**MONEY)
    lines = serializers.IntegerField()


class ByMonthSerializer(ScopeSerializer):
    rows = MonthRowSerializer(many=True)


def _scope(request):
    return spend_scope(request, request.query_params)


def _limit(request, default: int = 50, maximum: int = 500) -> int:
    try:
        value = int(request.query_params.get("limit", default))
    except ValueError as error:
        raise exceptions.ValidationError({"limit": ["Give a whole number."]}) from error
    if not 1 <= value <= maximum:
        raise exceptions.ValidationError({"limit": [f"Between 1 and {maximum}."]})
    return value


class SpendViewSet(viewsets.ViewSet):
    """Spend aggregates for a region (or all regions) and a year."""

    permission_classes = [IsMember]

    @extend_schema(
        parameters=SCOPE_PARAMETERS,
        responses={200: TotalsSerializer, **SCOPE_ERRORS},
        summary="Addressable spend and its matched, unclassified and excluded parts",
    )
    @action(detail=False, url_path="totals")
    def totals(self, request):
        scope = _scope(request)
        totals = selectors.spend_totals(scope.lines())
        data = {
            "region": scope.region_value,
            "year": scope.year,
            "lines": totals.pop("count"),
            "excluded": selectors.excluded_total(region=scope.region, year=scope.year),
            **totals,
        }
        return Response(TotalsSerializer(data).data)

    @extend_schema(
        parameters=[
            *SCOPE_PARAMETERS,
            OpenApiParameter(
                "prefix",
                OpenApiTypes.STR,
                description="CPV digits to drill into (2–7); empty: the divisions.",
            ),
        ],
        responses={200: ByCategorySerializer, **SCOPE_ERRORS},
        summary="Spend one level below a CPV prefix (divisions at the top, unclassified apart)",
    )
    @action(detail=False, url_path="by-category")
    def by_category(self, request):
        scope = _scope(request)
        prefix = selectors.normalise_prefix(request.query_params.get("prefix"))
        rows = selectors.spend_by_category(scope.lines(), prefix=prefix)
        data = {
            "region": scope.region_value,
            "year": scope.year,
            "prefix": prefix,
            "rows": [
                {
                    "code": row.code,
                    "digits": row.key or "",
                    "label": row.label,
                    "unspecified": row.unspecified,
                    "total": row.total,
                    "share": row.share,
                    "supplier_matched_total": row.supplier_matched_total,
                    "category_matched_total": row.category_matched_total,
                    "lines": row.count,
                }
                for row in rows
            ],
        }
        return Response(ByCategorySerializer(data).data)

    @extend_schema(
        parameters=[
            *SCOPE_PARAMETERS,
            OpenApiParameter(
                "limit", OpenApiTypes.INT, description="How many suppliers (1–500, default 50)."
            ),
        ],
        responses={
            200: BySupplierSerializer,
            400: OpenApiResponse(description="Bad limit."),
            **SCOPE_ERRORS,
        },
        summary="The suppliers with the most spend, and the Pareto figures",
    )
    @action(detail=False, url_path="by-supplier")
    def by_supplier(self, request):
        limit = _limit(request)
        scope = _scope(request)
        lines = scope.lines()
        pareto = selectors.pareto(lines)
        rows = selectors.spend_by_supplier(lines, limit=limit)
        for row in rows:
            row["share"] = selectors.share(row["total"], pareto.total)
            row["lines"] = row.pop("count")
            row["supplier_name"] = row["supplier_name"] or ""
        data = {
            "region": scope.region_value,
            "year": scope.year,
            "total": pareto.total,
            "suppliers": pareto.suppliers,
            "rows": rows,
            "top_suppliers_spend_share": [
                {"given": given, "result": result} for given, result in pareto.by_supplier_share
            ],
            "spend_share_suppliers_needed": [
                {"given": given, "result": result} for given, result in pareto.by_spend_share
            ],
        }
        return Response(BySupplierSerializer(data).data)

    @extend_schema(
        parameters=SCOPE_PARAMETERS,
        responses={200: ByMonthSerializer, **SCOPE_ERRORS},
        summary="Spend per month of the year",
    )
    @action(detail=False, url_path="by-month")
    def by_month(self, request):
        scope = _scope(request)
        rows = selectors.spend_by_month(scope.lines())
        for row in rows:
            row["lines"] = row.pop("count")
        data = {"region": scope.region_value, "year": scope.year, "rows": rows}
        return Response(ByMonthSerializer(data).data)


# Ledger lines -------------------------------------------------------------------------------------


class LedgerLineSerializer(serializers.ModelSerializer):
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    category = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = LedgerLine
        fields = [
            "id",
            "batch",
            "region",
            "row_number",
            "posting_date",
            "voucher_no",
            "invoice_no",
            "supplier_id",
            "supplier_name",
            "account",
            "cost_centre",
            "amount",
            "description",
            "order_channel",
            "category_code",
            "category",
            "is_excluded",
            "supplier_matched",
            "category_matched",
        ]
        read_only_fields = fields


class LinePagination(CursorPagination):
    # No COUNT over millions of lines: a cursor in id order.
    ordering = "pk"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class LedgerLineViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Lines of current batches (excluded ones too, flagged) of the regions the user may see."""

    serializer_class = LedgerLineSerializer
    queryset = LedgerLine.objects.none()  # for the schema; get_queryset filters by rights
    permission_classes = [IsMember]
    pagination_class = LinePagination
    filterset_class = selectors.LedgerLineFilter

    def get_queryset(self):
        user = self.request.user
        if permissions.is_secretariat(user):
            return selectors.ledger_lines(region_ids=None)
        return selectors.ledger_lines(region_ids=[r.pk for r in viewable_regions(user)])


# Rules ---------------------------------------------------------------------------------------------


def _region_ids(user) -> list[int] | None:
    """The common rules and those of the regions whose spend the user sees (None: all)."""
    if permissions.is_secretariat(user):
        return None
    return [region.pk for region in viewable_regions(user)]


class _RuleSerializer(serializers.ModelSerializer):
    """Parses a rule's fields; the service (spend/rules.py) checks rights and the whole rule."""

    region = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Region.objects.all(),
        allow_null=True,
        required=False,
        help_text="Region code; null for a common rule (the secretariat's).",
    )


class MappingRuleSerializer(_RuleSerializer):
    category = CategoryCodeField(help_text="The CPV code the lines are mapped to.")

    class Meta:
        model = MappingRule
        fields = ["id", *rules.MAPPING_RULE_FIELDS]


class ExclusionRuleSerializer(_RuleSerializer):
    class Meta:
        model = ExclusionRule
        fields = ["id", *rules.EXCLUSION_RULE_FIELDS]


def _through_service(service, **kwargs):
    """Call a rule service: its PermissionDenied answers 403 (DRF), its ValidationError 400."""
    try:
        return service(**kwargs)
    except DjangoValidationError as error:
        detail = {
            ("non_field_errors" if name == "__all__" else name): messages
            for name, messages in error.message_dict.items()
        }
        raise exceptions.ValidationError(detail) from error


class _RuleViewSet(viewsets.ModelViewSet):
    """Reads through the selectors; writes through the rule services."""

    permission_classes = [IsMember]
    filterset_fields = ["kind", "active"]
    save_service = None  # save(*, actor, rule=None, **fields)

    def perform_create(self, serializer):
        serializer.instance = _through_service(
            type(self).save_service, actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = _through_service(
            type(self).save_service,
            actor=self.request.user,
            rule=serializer.instance,
            **serializer.validated_data,
        )

    def perform_destroy(self, instance):
        _through_service(rules.rule_delete, actor=self.request.user, rule=instance)


@extend_schema(
    description="Mapping rules: a line without a valid CPV code gets the category of the first "
    "matching active rule (lowest priority first; at equal priority a region's rule before a "
    "common one). Changing rules does not touch loaded lines until a re-map.",
)
class MappingRuleViewSet(_RuleViewSet):
    serializer_class = MappingRuleSerializer
    save_service = staticmethod(rules.mapping_rule_save)
    queryset = MappingRule.objects.none()  # for the schema; get_queryset filters by rights

    def get_queryset(self):
        return selectors.mapping_rules(region_ids=_region_ids(self.request.user))


@extend_schema(
    description="Exclusion rules: lines that are not addressable spend, by account range or by "
    "a CPV prefix of the mapped category.",
)
class ExclusionRuleViewSet(_RuleViewSet):
    serializer_class = ExclusionRuleSerializer
    save_service = staticmethod(rules.exclusion_rule_save)
    queryset = ExclusionRule.objects.none()  # for the schema; get_queryset filters by rights

    def get_queryset(self):
        return selectors.exclusion_rules(region_ids=_region_ids(self.request.user))


# Import batches (ledger uploads) ----------------------------------------------------------------


class ImportBatchSerializer(serializers.ModelSerializer):
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    url = serializers.HyperlinkedIdentityField(view_name="importbatch-detail")
    page_url = serializers.SerializerMethodField(help_text="The batch's page in the browser.")

    class Meta:
        model = ImportBatch
        fields = [
            "id",
            "url",
            "page_url",
            "region",
            "period_start",
            "period_end",
            "source",
            "uploaded_by",
            "uploaded_at",
            "file_name",
            "sha256",
            "size",
            "status",
            "is_current",
            "rows_total",
            "rows_parsed",
            "rows_validated",
            "rows_loaded",
            "spend_total",
            "error_count",
            "message",
            "started_at",
            "finished_at",
            "attempts",
            "file_purged_at",
            "replace_confirmed",
            "replace_preview",
        ]
        read_only_fields = fields

    def get_page_url(self, batch) -> str:
        path = reverse("spend:batch", kwargs={"pk": batch.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True, help_text="Spreadsheet row (header = 1).")
    column = serializers.CharField(allow_blank=True)
    value = serializers.CharField(allow_blank=True)
    reason = serializers.CharField()


class ImportBatchDetailSerializer(ImportBatchSerializer):
    errors = RowErrorSerializer(many=True, read_only=True, help_text="The first 1,000 errors.")

    class Meta(ImportBatchSerializer.Meta):
        fields = [*ImportBatchSerializer.Meta.fields, "errors"]
        read_only_fields = fields


class ImportBatchUploadSerializer(serializers.Serializer):
    region = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Region.objects.filter(active=True),
        help_text="Code of the region the extract belongs to, e.g. RM.",
    )
    file = serializers.FileField(
        help_text=".csv (; , or tab), .csv.gz or .xlsx; at most settings.LEDGER_MAX_UPLOAD_BYTES."
    )
    period_start = serializers.DateField(
        required=False, allow_null=True, help_text="First day; empty: from the lines."
    )
    period_end = serializers.DateField(
        required=False, allow_null=True, help_text="Last day; empty: from the lines."
    )
    confirm_replace = serializers.BooleanField(
        required=False,
        default=False,
        help_text="true: the import may delete the lines stored for its period (and leave "
        "months of a declared period without lines). Without it such an upload answers 409 "
        "with the preview and changes nothing.",
    )


class ReplacementPreviewSerializer(serializers.Serializer):
    """The 409 answer: what the upload would replace; nothing was changed."""

    detail = serializers.CharField()
    code = serializers.CharField(help_text="confirmation_required")
    preview = serializers.JSONField(
        help_text="period_start, period_end, months [{month, stored_lines, stored_amount, "
        "file_lines, file_amount}], totals, emptied_months, months_without_lines; the file's "
        "figures are null when the file was not read yet (file_read false)."
    )
    batch = serializers.JSONField(
        allow_null=True,
        help_text="The batch that waits for confirm/ or cancel/, or null when nothing was stored.",
    )


class ImportBatchUploadedSerializer(ImportBatchSerializer):
    queue_unreachable = serializers.SerializerMethodField(
        help_text="True: saved and queued, but the task queue could not be reached; the "
        "import starts when it is back (the sweeper sends it)."
    )

    class Meta(ImportBatchSerializer.Meta):
        fields = [*ImportBatchSerializer.Meta.fields, "queue_unreachable"]
        read_only_fields = fields

    def get_queue_unreachable(self, batch) -> bool:
        return bool(self.context.get("queue_unreachable"))


class ImportBatchFilter(filters.FilterSet):
    region = filters.CharFilter(field_name="region__code", help_text="Region code.")
    status = filters.ChoiceFilter(choices=ImportBatch.Status.choices)

    class Meta:
        model = ImportBatch
        fields = ["region", "status"]


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "The file is larger than the upload limit."
    default_code = "too_large"


@extend_schema(
    description="Ledger extracts: upload one (multipart) for a region your ERP reports for, "
    "and follow its import. A region's officers (and the secretariat) upload; whoever sees a "
    "region's lines reads its batches. A batch of another region answers 404.",
)
class ImportBatchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ImportBatchSerializer
    queryset = ImportBatch.objects.none()  # for the schema; get_queryset filters by rights
    permission_classes = [IsMember]
    filterset_class = ImportBatchFilter

    def initialize_request(self, request, *args, **kwargs):
        # Before anything parses the body (DRF's parsers use the Django request's handlers):
        # the upload stops at the size limit while it streams.
        if request.method == "POST":
            request.upload_handlers.insert(0, LedgerUploadLimit(request))
        return super().initialize_request(request, *args, **kwargs)

    def get_queryset(self):
        return ledger_batches_visible_to(self.request.user).order_by("-uploaded_at", "-pk")

    def get_serializer_class(self):
        if self.action == "retrieve":
            return ImportBatchDetailSerializer
        return ImportBatchSerializer

    @extend_schema(
        request={"multipart/form-data": ImportBatchUploadSerializer},
        responses={
            202: ImportBatchUploadedSerializer,
            200: OpenApiResponse(
                ImportBatchUploadedSerializer,
                description="The same file was imported before: recorded as a duplicate, "
                "nothing changed.",
            ),
            400: OpenApiResponse(description="Bad input or a refused file (the reason)."),
            403: OpenApiResponse(description="You may not upload for this region."),
            409: OpenApiResponse(
                ReplacementPreviewSerializer,
                description="The upload would delete stored lines (or declares months the "
                "file has no lines for) and did not say confirm_replace=true: the preview, "
                "nothing changed.",
            ),
            413: OpenApiResponse(description="The file is larger than the upload limit."),
        },
        summary="Upload a ledger extract; it is imported in the background",
    )
    def create(self, request):
        django_request = request._request
        upload = ImportBatchUploadSerializer(data=request.data)
        if getattr(django_request, "ledger_upload_too_large", False):
            raise PayloadTooLarge(
                "The file is larger than the limit of "
                f"{filesizeformat(settings.LEDGER_MAX_UPLOAD_BYTES)}; nothing was saved."
            )
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        confirm = data.get("confirm_replace", False)
        try:
            if not confirm:
                # A declared period with stored lines: answered before the file is stored.
                early = ledger_replacement_check(
                    region=data["region"],
                    actor=request.user,
                    period_start=data.get("period_start"),
                    period_end=data.get("period_end"),
                )
                if early is not None:
                    return _confirmation_required(early, None)
            result = ledger_upload(
                region=data["region"],
                uploaded_file=data["file"],
                actor=request.user,
                source=ImportBatch.Source.API,
                period_start=data.get("period_start"),
                period_end=data.get("period_end"),
                confirm_replace=confirm,
            )
        except ImportRefused as refused:
            # The period's own refusals carry the default code; every other one is the file's.
            period = ("refused", "implausible_period")
            field = "non_field_errors" if refused.code in period else "file"
            raise exceptions.ValidationError(
                {field: [str(refused.message)]}, code=refused.code
            ) from refused
        batch = result.batch
        batch.refresh_from_db()
        body = ImportBatchUploadedSerializer(
            batch,
            context={"request": request, "queue_unreachable": result.queue_unreachable},
        ).data
        if batch.status == ImportBatch.Status.DUPLICATE:
            return Response(body, status=200)
        if batch.status == ImportBatch.Status.AWAITING:  # imported inline (no task queue)
            return _confirmation_required(ReplacementPreview.from_json(batch.replace_preview), body)
        return Response(body, status=202, headers={"Location": body["url"]})

    @extend_schema(
        request=None,
        responses={
            202: ImportBatchUploadedSerializer,
            400: OpenApiResponse(description="The batch does not wait for a confirmation."),
            403: OpenApiResponse(description="You may not upload for this region."),
        },
        summary="Confirm the replacement a batch awaiting confirmation would make",
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        batch = self.get_object()
        try:
            # The service's PermissionDenied answers 403 (DRF).
            result = ledger_batch_confirm(batch=batch, actor=request.user)
        except ImportRefused as refused:
            raise exceptions.ValidationError(
                {"non_field_errors": [str(refused.message)]}, code=refused.code
            ) from refused
        batch.refresh_from_db()
        body = ImportBatchUploadedSerializer(
            batch,
            context={"request": request, "queue_unreachable": result.queue_unreachable},
        ).data
        return Response(body, status=202, headers={"Location": body["url"]})

    @extend_schema(
        request=None,
        responses={
            200: ImportBatchSerializer,
            400: OpenApiResponse(description="The batch does not wait for a confirmation."),
            403: OpenApiResponse(description="You may not upload for this region."),
        },
        summary="Cancel a batch awaiting confirmation: nothing is imported, its file deleted",
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        batch = self.get_object()
        try:
            batch = ledger_batch_cancel(batch=batch, actor=request.user)
        except ImportRefused as refused:
            raise exceptions.ValidationError(
                {"non_field_errors": [str(refused.message)]}, code=refused.code
            ) from refused
        return Response(ImportBatchSerializer(batch, context={"request": request}).data)


def _confirmation_required(preview: ReplacementPreview, batch_body: dict | None) -> Response:
    """409: what the upload would replace; nothing changed (repeat with confirm_replace)."""
    return Response(
        {
            "detail": preview.summary(),
            "code": "confirmation_required",
            "confirm_label": preview.confirm_label(),
            "preview": preview.as_json(),
            "batch": batch_body,
        },
        status=409,
    )
