"""KPI snapshots over the REST API: read-only, filterable by key, region and period."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.permissions import BasePermission

from kpi import definitions, selectors
from kpi.models import KpiSnapshot
from rfi import permissions


class IsMember(BasePermission):
    """KPIs are for the collaboration's members; a user without a role gets 403."""

    def has_permission(self, request, view) -> bool:
        return permissions.can_view_internal_pages(request.user)


class KpiSnapshotSerializer(serializers.ModelSerializer):
    region = serializers.SlugRelatedField(
        slug_field="code", read_only=True, help_text="Region code; null for the collaboration."
    )
    period = serializers.CharField(source="period_label", help_text="2025, 2025-Q1 or 2025-03.")
    value = serializers.DecimalField(
        max_digits=24,
        decimal_places=6,
        allow_null=True,
        read_only=True,
        help_text="Ratios as fractions 0–1, money in the collaboration's currency; "
        "null when not available.",
    )
    unit = serializers.SerializerMethodField(help_text="ratio, dkk, count or number.")
    reason = serializers.SerializerMethodField(
        help_text="Why the figure is not available (empty when it is), in the user's language."
    )
    run = serializers.PrimaryKeyRelatedField(read_only=True)
    strategy = serializers.SerializerMethodField(
        help_text="Code of the strategy in force in the figure's year; null outside every strategy."
    )
    target = serializers.SerializerMethodField(
        help_text="That strategy's target for the KPI (a number, as value); null without one."
    )
    on_track = serializers.SerializerMethodField(
        help_text="Whether the value meets the target; null without a value or a target "
        "(never judged against an expired strategy)."
    )

    class Meta:
        model = KpiSnapshot
        fields = [
            "id",
            "key",
            "region",
            "period_kind",
            "period",
            "period_start",
            "value",
            "unit",
            "available",
            "reason",
            "detail",
            "batch_ids",
            "computed_at",
            "run",
            "strategy",
            "target",
            "on_track",
        ]
        read_only_fields = fields

    def get_unit(self, obj: KpiSnapshot) -> str:
        return definitions.get(obj.key).unit

    def get_reason(self, obj: KpiSnapshot) -> str:
        return "" if obj.available else obj.reason_display

    def _in_force(self, obj: KpiSnapshot):
        """(strategy, its targets by key) of the snapshot's year, cached for the response."""
        cache = self.context.setdefault("_strategies", {})
        year = obj.period_start.year
        if year not in cache:
            strategy = selectors.strategy_for_year(year)
            targets = {t.key: t for t in strategy.targets.all()} if strategy else {}
            cache[year] = (strategy, targets)
        return cache[year]

    def get_strategy(self, obj: KpiSnapshot) -> str | None:
        strategy, _targets = self._in_force(obj)
        return strategy.code if strategy else None

    def get_target(self, obj: KpiSnapshot) -> str | None:
        target = self._in_force(obj)[1].get(obj.key)
        return None if target is None else format(target.value.normalize(), "f")

    def get_on_track(self, obj: KpiSnapshot) -> bool | None:
        target = self._in_force(obj)[1].get(obj.key)
        if target is None or not obj.available:
            return None
        return target.is_met(obj.value)


@extend_schema_view(
    list=extend_schema(
        summary="Current KPI figures",
        description="The current snapshot of every KPI the user may read: chiefs, UFO "
        "members and the secretariat every region's and the collaboration's; others their "
        "own regions' per-region KPIs. Filter with key, region (code, or 'none' for the "
        "collaboration), period (2025, 2025-Q1, 2025-03), period_kind, year, available.",
    )
)
class KpiSnapshotViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = KpiSnapshotSerializer
    permission_classes = [IsMember]
    filterset_class = selectors.SnapshotFilter
    queryset = KpiSnapshot.objects.none()  # the schema's model; get_queryset() answers

    def get_queryset(self):
        return selectors.snapshots_visible_to(self.request.user).order_by(
            "key", "region__code", "period_kind", "period_start", "pk"
        )
