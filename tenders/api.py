"""The joint tender plan over the REST API: the same services and rights as the browser.

Reads are for the collaboration's members (``can_view_internal_pages``); every write
goes through an input serializer to a service in tenders/services.py, which checks the
actor's rights. A service's PermissionDenied answers 403, its ValidationError 400 with
the messages by field (``rfi.api.exception_handler``).
"""

from __future__ import annotations

from functools import cached_property

import django_filters
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
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
from rfi.models import PartnerBody, Region
from tenders import selectors, services
from tenders.models import (
    CandidateArea,
    CandidateVote,
    OptOutReason,
    Participation,
    SavingsMethod,
    SavingsPlan,
    SavingsRecord,
    Score,
    ScoreSheet,
    ScoringCriterion,
    TenderCase,
)
from tenders.screening import VOLUME_CRITERION
from tenders.services import Decision
from tenders.ufo import screening as ufo_screening
from tenders.ufo.forms import regions_of

MONEY = {"max_digits": 15, "decimal_places": 2}
SCREENING_MONEY = {"max_digits": 17, "decimal_places": 2}
DETAIL_WRITE_ERRORS = {
    **WRITE_ERRORS,
    404: OpenApiResponse(description="No such object."),
}


# Tender cases ------------------------------------------------------------------------------


class ParticipationSummarySerializer(serializers.ModelSerializer):
    region = read_only_slug("code")

    class Meta:
        model = Participation
        fields = ["id", "region", "status", "option_expected_join", "option_exercised_on"]


class TenderSerializer(serializers.ModelSerializer):
    category = read_only_slug("code")
    category_label = serializers.CharField(source="category.label", read_only=True)
    lead_region = read_only_slug("code", allow_null=True)
    lead_partner = read_only_slug("code", allow_null=True)
    participations = ParticipationSummarySerializer(many=True, read_only=True)

    class Meta:
        model = TenderCase
        fields = [
            "reference",
            "title",
            "description",
            "category",
            "category_label",
            "area",
            "kind",
            "has_options",
            "lead_region",
            "lead_partner",
            "status",
            "expected_tender_start",
            "publication_date",
            "award_date",
            "contract_start",
            "contract_end",
            "extension_until",
            "decision_deadline",
            "estimated_annual_value",
            "internal_notes",
            "is_publishable",
            "participations",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is not None and not permissions.can_view_internal_notes(request.user, instance):
            data["internal_notes"] = ""
        return data


class TenderInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=300)
    description = serializers.CharField(required=False, allow_blank=True)
    category = CategoryCodeField(help_text="CPV code, e.g. 33141000 or 33141000-0")
    area = serializers.ChoiceField(choices=TenderCase.Area.choices)
    kind = serializers.ChoiceField(choices=TenderCase.Kind.choices)
    has_options = serializers.BooleanField(required=False)
    lead_region = code_field(Region.objects.filter(active=True), required=False, allow_null=True)
    lead_partner = code_field(
        PartnerBody.objects.filter(active=True), required=False, allow_null=True
    )
    status = serializers.ChoiceField(choices=TenderCase.Status.choices, required=False)
    expected_tender_start = serializers.DateField(required=False, allow_null=True)
    publication_date = serializers.DateField(required=False, allow_null=True)
    award_date = serializers.DateField(required=False, allow_null=True)
    contract_start = serializers.DateField(required=False, allow_null=True)
    contract_end = serializers.DateField(required=False, allow_null=True)
    extension_until = serializers.DateField(required=False, allow_null=True)
    decision_deadline = serializers.DateField(required=False, allow_null=True)
    estimated_annual_value = serializers.DecimalField(
        **MONEY, min_value=0, required=False, allow_null=True
    )
    internal_notes = serializers.CharField(required=False, allow_blank=True)
    is_publishable = serializers.BooleanField(required=False)


class TenderViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Tender cases of the joint plan, filtered like the plan overview."""

    queryset = selectors.tender_list().prefetch_related("participations__region")
    serializer_class = TenderSerializer
    permission_classes = [IsMember]
    filterset_class = selectors.TenderFilter
    lookup_field = "reference"
    http_method_names = ["get", "post", "patch", "head", "options"]

    @extend_schema(request=TenderInputSerializer, responses={201: TenderSerializer, **WRITE_ERRORS})
    def create(self, request, *args, **kwargs):
        """Log a tender case; every active region starts as pending."""
        require(permissions.can_create_tender(request.user))
        data = self._validated(TenderInputSerializer(data=request.data))
        tender = services.tender_create(actor=request.user, **data)
        tender = self.get_queryset().get(pk=tender.pk)
        return Response(self.get_serializer(tender).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=TenderInputSerializer, responses={200: TenderSerializer, **DETAIL_WRITE_ERRORS}
    )
    def partial_update(self, request, *args, **kwargs):
        """Change a case: the lead region's officers and the secretariat."""
        tender = self.get_object()
        require(permissions.can_edit_tender(request.user, tender))
        data = self._validated(TenderInputSerializer(data=request.data, partial=True))
        services.tender_update(tender=tender, actor=request.user, **data)
        tender = self.get_queryset().get(pk=tender.pk)
        return Response(self.get_serializer(tender).data)

    @staticmethod
    def _validated(serializer) -> dict:
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


# Participation -------------------------------------------------------------------------------


class ParticipationSerializer(serializers.ModelSerializer):
    tender = read_only_slug("reference")
    region = read_only_slug("code")
    opt_out_reason = read_only_slug("code", allow_null=True)
    decided_by = read_only_slug("username", allow_null=True)

    class Meta:
        model = Participation
        fields = [
            "id",
            "tender",
            "region",
            "status",
            "estimated_annual_value",
            "option_expected_join",
            "option_exercised_on",
            "opt_out_reason",
            "justification",
            "existing_contract_end",
            "decided_by",
            "decided_at",
        ]
        read_only_fields = fields


DECISIONS = [c for c in Participation.Status.choices if c[0] != Participation.Status.PENDING]


class ParticipationDecisionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=DECISIONS)
    opt_out_reason = code_field(
        OptOutReason.objects.filter(active=True),
        required=False,
        allow_null=True,
        help_text="Required when opting out (follow or explain).",
    )
    justification = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Required when opting out, at least the secretariat's minimum length.",
    )
    existing_contract_end = serializers.DateField(required=False, allow_null=True)
    option_expected_join = serializers.DateField(required=False, allow_null=True)
    estimated_annual_value = serializers.DecimalField(
        **MONEY, min_value=0, required=False, allow_null=True
    )


class OptionExerciseSerializer(serializers.Serializer):
    exercised_on = serializers.DateField()


class ParticipationFilter(django_filters.FilterSet):
    tender = django_filters.CharFilter(field_name="tender__reference", label="Tender reference")
    region = django_filters.CharFilter(field_name="region__code", label="Region code")
    status = django_filters.ChoiceFilter(choices=Participation.Status.choices)

    class Meta:
        model = Participation
        fields = ["tender", "region", "status"]


class ParticipationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Each region's participation in each case; a region's officers decide their own."""

    queryset = Participation.objects.select_related(
        "tender", "region", "opt_out_reason", "decided_by"
    ).order_by("tender__reference", "region__code")
    serializer_class = ParticipationSerializer
    permission_classes = [IsMember]
    filterset_class = ParticipationFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    @extend_schema(
        request=ParticipationDecisionSerializer,
        responses={200: ParticipationSerializer, **DETAIL_WRITE_ERRORS},
    )
    def partial_update(self, request, *args, **kwargs):
        """Record the region's decision: full, on an option, or opted out with a justification."""
        participation = self.get_object()
        require(permissions.can_set_participation(request.user, participation))
        serializer = ParticipationDecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        services.participation_decide(
            participation=participation,
            actor=request.user,
            status=data["status"],
            reason=data.get("opt_out_reason"),
            justification=data.get("justification", ""),
            existing_contract_end=data.get("existing_contract_end"),
            option_expected_join=data.get("option_expected_join"),
            estimated_annual_value=data.get("estimated_annual_value"),
        )
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        request=OptionExerciseSerializer,
        responses={200: ParticipationSerializer, **DETAIL_WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="exercise-option", url_name="exercise-option")
    def exercise_option(self, request, *args, **kwargs):
        """A region on an option joins the framework; the date is recorded."""
        participation = self.get_object()
        require(permissions.can_set_participation(request.user, participation))
        serializer = OptionExerciseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.participation_exercise_option(
            participation=participation,
            actor=request.user,
            exercised_on=serializer.validated_data["exercised_on"],
        )
        return Response(self.get_serializer(self.get_object()).data)


# UFO: candidate areas -----------------------------------------------------------------------


class CandidateVoteSerializer(serializers.ModelSerializer):
    region = read_only_slug("code")
    voted_by = read_only_slug("username", allow_null=True)

    class Meta:
        model = CandidateVote
        fields = ["region", "decision", "reason", "postpone_to_year", "voted_by", "voted_at"]
        read_only_fields = fields


class CandidateSerializer(serializers.ModelSerializer):
    votes = CandidateVoteSerializer(many=True, read_only=True)
    category = read_only_slug("code")
    category_label = serializers.CharField(source="category.label", read_only=True)
    proposed_by = read_only_slug("username", allow_null=True)
    proposer_region = read_only_slug("code", allow_null=True)
    decided_by = read_only_slug("username", allow_null=True)
    tender = read_only_slug("reference", allow_null=True)
    weighted_mean = serializers.SerializerMethodField()
    spread = serializers.SerializerMethodField()
    score_sheets = serializers.SerializerMethodField()
    missing_scorers = serializers.SerializerMethodField()

    class Meta:
        model = CandidateArea
        fields = [
            "id",
            "title",
            "category",
            "category_label",
            "description",
            "plan_year",
            "annual_volume",
            "expected_reduction",
            "proposed_by",
            "proposer_region",
            "status",
            "weighted_mean",
            "spread",
            "score_sheets",
            "missing_scorers",
            "recommended_at",
            "recommendation_reason",
            "decided_by",
            "decided_at",
            "decision_reason",
            "postponed_to_year",
            "votes",
            "meeting_date",
            "minutes_reference",
            "tender",
            "created_at",
        ]
        read_only_fields = fields

    def _ranking(self, candidate) -> selectors.CandidateRanking | None:
        return self.context.get("rankings", {}).get(candidate.pk)

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_weighted_mean(self, candidate) -> float | None:
        ranking = self._ranking(candidate)
        return ranking.weighted_mean if ranking else None

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_spread(self, candidate) -> float | None:
        ranking = self._ranking(candidate)
        return ranking.spread if ranking else None

    def get_score_sheets(self, candidate) -> int:
        ranking = self._ranking(candidate)
        return len(ranking.sheet_means) if ranking else 0

    def get_missing_scorers(self, candidate) -> list[str]:
        ranking = self._ranking(candidate)
        return [u.get_username() for u in ranking.missing_scorers] if ranking else []


class CandidateInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=300)
    category = CategoryCodeField(help_text="CPV code, e.g. 33141000 or 33141000-0")
    description = serializers.CharField(required=False, allow_blank=True, default="")
    plan_year = serializers.IntegerField(min_value=2000, max_value=2100)
    proposer_region = code_field(
        Region.objects.filter(active=True), required=False, allow_null=True
    )
    annual_volume = serializers.DecimalField(
        **MONEY,
        required=False,
        allow_null=True,
        min_value=0,
        help_text="UFO figure: the regions' yearly purchases in the area (currency).",
    )
    expected_reduction = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        required=False,
        allow_null=True,
        min_value=0,
        max_value=100,
        help_text="UFO figure: expected price reduction in percent.",
    )

    def validate_proposer_region(self, region):
        user = self.context["request"].user
        if region is not None and region not in regions_of(user):
            raise serializers.ValidationError(_("You can propose only for your own regions."))
        return region


class CandidateRecommendSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="The secretariat's reason for recommending before every UFO member scored.",
    )


class CandidateDecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Decision.CHOICES)
    lead_region = code_field(
        Region.objects.filter(active=True),
        required=False,
        allow_null=True,
        help_text="Required when approving.",
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Required when rejecting or postponing.",
    )
    postpone_to_year = serializers.IntegerField(
        min_value=2000, max_value=2100, required=False, allow_null=True
    )
    meeting_date = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="The secretariat's meeting decision: the date of the chiefs' meeting.",
    )
    minutes_reference = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=200,
        help_text="The secretariat's meeting decision: the minutes' reference.",
    )


class ScreeningRegionSerializer(serializers.Serializer):
    region = serializers.CharField(allow_null=True, help_text="Region code; null for the total.")
    name = serializers.CharField()
    spend = serializers.DecimalField(help_text="Addressable spend, kr.", **SCREENING_MONEY)
    covered_spend = serializers.DecimalField(
        help_text="Spend in a category the region has a covering contract for.", **SCREENING_MONEY
    )
    on_contract_spend = serializers.DecimalField(
        help_text="Of the covered spend, bought on a covering contract.", **SCREENING_MONEY
    )
    on_contract_share = serializers.DecimalField(
        max_digits=5,
        decimal_places=1,
        allow_null=True,
        help_text="Compliance, %: on-contract ÷ covered spend; null when nothing is covered.",
    )
    suppliers = serializers.IntegerField()


class ScreeningSupplierSerializer(serializers.Serializer):
    supplier_id = serializers.CharField()
    name = serializers.CharField(allow_blank=True)
    spend = serializers.DecimalField(**SCREENING_MONEY)
    share = serializers.DecimalField(max_digits=7, decimal_places=1, allow_null=True)


class ScreeningPeriodSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    regions = ScreeningRegionSerializer(many=True)
    total = ScreeningRegionSerializer(
        allow_null=True, help_text="All regions; null when you may see only your own."
    )
    top_suppliers = ScreeningSupplierSerializer(many=True)


class ScreeningContractSerializer(serializers.Serializer):
    region = serializers.CharField()
    region_name = serializers.CharField()
    title = serializers.CharField()
    supplier = serializers.CharField()
    category = serializers.CharField()
    ends_on = serializers.DateField()


class ScreeningFiguresSerializer(serializers.Serializer):
    category = serializers.CharField()
    prefix = serializers.CharField()
    today = serializers.DateField()
    as_of_month = serializers.CharField(
        allow_null=True, help_text="YYYY-MM: the latest month with ledger lines."
    )
    all_regions = serializers.BooleanField()
    annual_spend = serializers.DecimalField(allow_null=True, **SCREENING_MONEY)
    last_12_months = ScreeningPeriodSerializer(allow_null=True)
    full_year = serializers.IntegerField(allow_null=True)
    last_full_year = ScreeningPeriodSerializer(allow_null=True)
    contracts_ending_by = serializers.DateField()
    contracts_ending = ScreeningContractSerializer(many=True)


class VolumeSuggestionSerializer(serializers.Serializer):
    criterion = serializers.CharField()
    score = serializers.IntegerField()
    annual_spend = serializers.DecimalField(**SCREENING_MONEY)


class CandidateScreeningSerializer(serializers.Serializer):
    current = ScreeningFiguresSerializer(help_text="The ledger's figures now.")
    suggestion = VolumeSuggestionSerializer(
        allow_null=True, help_text="The volume criterion's suggested score."
    )
    at_proposal = ScreeningFiguresSerializer(
        allow_null=True, help_text="The figures when the area was proposed."
    )


def _suggestion_json(suggestion) -> dict | None:
    if suggestion is None:
        return None
    return {
        "criterion": VOLUME_CRITERION,
        "score": suggestion.score,
        "annual_spend": suggestion.annual_spend,
    }


class CandidateViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """The UFO group's candidate areas with their weighted mean, spread and missing scorers."""

    queryset = CandidateArea.objects.select_related(
        "category", "proposed_by", "proposer_region", "decided_by", "tender"
    ).prefetch_related("votes__region", "votes__voted_by")
    serializer_class = CandidateSerializer
    permission_classes = [IsMember]
    filterset_fields = ["plan_year", "status"]
    http_method_names = ["get", "post", "head", "options"]

    @cached_property
    def rankings(self) -> dict[int, selectors.CandidateRanking]:
        return {r.candidate.pk: r for r in selectors.candidate_ranking()}

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["rankings"] = self.rankings
        return context

    def _answer(self, candidate, status_code=status.HTTP_200_OK) -> Response:
        self.__dict__.pop("rankings", None)
        candidate = self.get_queryset().get(pk=candidate.pk)
        return Response(self.get_serializer(candidate).data, status=status_code)

    @extend_schema(
        request=CandidateInputSerializer, responses={201: CandidateSerializer, **WRITE_ERRORS}
    )
    def create(self, request, *args, **kwargs):
        """Propose a candidate area: UFO members, officers and the secretariat."""
        require(permissions.can_propose_candidate(request.user))
        serializer = CandidateInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        candidate = services.candidate_create(
            actor=request.user,
            screening=ufo_screening.snapshot_for_proposal(code=data["category"].code),
            **data,
        )
        return self._answer(candidate, status.HTTP_201_CREATED)

    @extend_schema(responses={200: CandidateScreeningSerializer, 404: DETAIL_WRITE_ERRORS[404]})
    @action(detail=True, methods=["get"])
    def screening(self, request, *args, **kwargs):
        """The ledger's figures for the candidate's category and subtree: spend per region and
        in total over the last 12 months and the last full year, the share on contract, the
        suppliers, the contracts ending within 24 months, and the volume criterion's suggested
        score. Chiefs, UFO members and the secretariat see every region; others their own."""
        candidate = self.get_object()
        current, suggestion = ufo_screening.screening_for(
            request.user, code=candidate.category.code
        )
        at_proposal, _suggestion = ufo_screening.proposal_figures(
            request.user, candidate.screening_at_proposal
        )
        data = {
            "current": current.to_json(),
            "suggestion": _suggestion_json(suggestion),
            "at_proposal": at_proposal.to_json() if at_proposal else None,
        }
        return Response(CandidateScreeningSerializer(data).data)

    @extend_schema(
        request=CandidateRecommendSerializer,
        responses={200: CandidateSerializer, **DETAIL_WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def recommend(self, request, *args, **kwargs):
        """The UFO group recommends a candidate area to the chiefs once every active UFO
        member has scored; before that the secretariat may, giving a ``reason``."""
        candidate = self.get_object()
        require(permissions.can_recommend_candidate(request.user, candidate))
        serializer = CandidateRecommendSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.candidate_recommend(
            candidate=candidate,
            actor=request.user,
            reason=serializer.validated_data.get("reason", ""),
        )
        return self._answer(candidate)

    @extend_schema(
        request=CandidateDecisionSerializer,
        responses={200: CandidateSerializer, **DETAIL_WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def decide(self, request, *args, **kwargs):
        """A chief records the region's vote (the area is decided when the decision rule is
        met); the secretariat records a meeting's decision with its date and minutes."""
        candidate = self.get_object()
        require(permissions.can_decide_candidate(request.user, candidate))
        serializer = CandidateDecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.candidate_decide(
            candidate=candidate,
            actor=request.user,
            decision=data["decision"],
            lead_region=data.get("lead_region"),
            reason=data.get("reason", ""),
            postpone_to_year=data.get("postpone_to_year"),
            meeting_date=data.get("meeting_date"),
            minutes_reference=data.get("minutes_reference", ""),
        )
        return self._answer(candidate)


# UFO: score sheets --------------------------------------------------------------------------


class ScoreSerializer(serializers.ModelSerializer):
    criterion = read_only_slug("code")
    criterion_label = serializers.CharField(source="criterion.label", read_only=True)
    weight = serializers.DecimalField(
        source="criterion.weight", max_digits=5, decimal_places=2, read_only=True
    )

    class Meta:
        model = Score
        fields = ["criterion", "criterion_label", "weight", "value", "comment"]
        read_only_fields = fields


class ScoreSheetSerializer(serializers.ModelSerializer):
    candidate = serializers.PrimaryKeyRelatedField(read_only=True)
    scorer = read_only_slug("username")
    other_body = read_only_slug("code", allow_null=True)
    scores = ScoreSerializer(many=True, read_only=True)

    class Meta:
        model = ScoreSheet
        fields = [
            "id",
            "candidate",
            "scorer",
            "scores",
            "with_other_body",
            "other_body",
            "other_body_comment",
            "updated_at",
        ]
        read_only_fields = fields


class ScoreInputSerializer(serializers.Serializer):
    criterion = code_field(ScoringCriterion.objects.filter(active=True))
    value = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class ScoreSheetInputSerializer(serializers.Serializer):
    candidate = serializers.PrimaryKeyRelatedField(queryset=CandidateArea.objects.all())
    scores = ScoreInputSerializer(many=True, help_text="One score per active criterion.")
    with_other_body = serializers.ChoiceField(
        choices=ScoreSheet.OtherBody.choices, default=ScoreSheet.OtherBody.NO
    )
    other_body = code_field(PartnerBody.objects.all(), required=False, allow_null=True)
    other_body_comment = serializers.CharField(required=False, allow_blank=True, default="")


class ScoreSheetFilter(django_filters.FilterSet):
    candidate = django_filters.NumberFilter(field_name="candidate_id", min_value=1)
    scorer = django_filters.CharFilter(field_name="scorer__username")

    class Meta:
        model = ScoreSheet
        fields = ["candidate", "scorer"]


class ScoreSheetViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """UFO members' score sheets; submitting again replaces the member's sheet."""

    queryset = (
        ScoreSheet.objects.select_related("candidate", "scorer", "other_body")
        .prefetch_related("scores__criterion")
        .order_by("candidate_id", "scorer__username")
    )
    serializer_class = ScoreSheetSerializer
    permission_classes = [IsMember]
    filterset_class = ScoreSheetFilter
    http_method_names = ["get", "post", "head", "options"]

    def get_service_field_map(self) -> dict[str, str]:
        """The service names a criterion's score by its code; the input calls them scores."""
        codes = ScoringCriterion.objects.filter(active=True).values_list("code", flat=True)
        return {code: "scores" for code in codes}

    @extend_schema(
        request=ScoreSheetInputSerializer,
        responses={
            201: OpenApiResponse(ScoreSheetSerializer, description="A new score sheet."),
            200: OpenApiResponse(ScoreSheetSerializer, description="The sheet was replaced."),
            **WRITE_ERRORS,
        },
    )
    def create(self, request, *args, **kwargs):
        """Score a candidate area 1–5 on every active criterion (UFO members)."""
        require(permissions.can_score_candidate(request.user))
        serializer = ScoreSheetInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        candidate = data["candidate"]
        existed = ScoreSheet.objects.filter(candidate=candidate, scorer=request.user).exists()
        scores = {s["criterion"].code: (s["value"], s["comment"]) for s in data["scores"]}
        sheet = services.score_sheet_submit(
            candidate=candidate,
            scorer=request.user,
            scores=scores,
            with_other_body=data["with_other_body"],
            other_body=data.get("other_body"),
            other_body_comment=data.get("other_body_comment", ""),
        )
        sheet = self.get_queryset().get(pk=sheet.pk)
        code = status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        return Response(self.get_serializer(sheet).data, status=code)


# Savings ------------------------------------------------------------------------------------


class SavingsRecordSerializer(serializers.ModelSerializer):
    tender = read_only_slug("reference", allow_null=True)
    region = read_only_slug("code")
    category = read_only_slug("code", allow_null=True)
    kind = serializers.ChoiceField(
        choices=SavingsRecord.Kind.choices,
        source="effective_kind",
        read_only=True,
        help_text="The contract's kind: the record's own, else its joint case's.",
    )
    method = read_only_slug("code")
    recorded_by = read_only_slug("username", allow_null=True)
    annual_saving = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)
    price_reduction = serializers.SerializerMethodField(
        help_text="The saving as a fraction of the baseline (0.15 = 15 %)."
    )
    realised = serializers.SerializerMethodField(
        help_text="Awarded records: the realised saving of the latest year with the region's "
        "compliance figure (year, compliance, days active, amount, method); else null."
    )

    class Meta:
        model = SavingsRecord
        fields = [
            "id",
            "tender",
            "region",
            "category",
            "kind",
            "stage",
            "baseline_annual_cost",
            "new_annual_cost",
            "annual_saving",
            "price_reduction",
            "method",
            "contract_start",
            "contract_end",
            "recorded_by",
            "recorded_at",
            "realised",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_realised(self, record) -> dict | None:
        from django.utils import timezone

        from tenders import savings, savings_reports

        # One compliance read per year for the whole page of records.
        cache = self.context.setdefault("compliance_cache", {})
        found = savings_reports.realisation_of(
            record, today=timezone.localdate(), compliance_cache=cache
        )
        if found is None:
            return None
        return {
            "year": found.year,
            "compliance": str(found.compliance),
            "days_active": found.days,
            "amount": str(found.amount),
            "method": savings.REALISATION_METHOD,
        }

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_price_reduction(self, record) -> float | None:
        reduction = record.price_reduction
        return None if reduction is None else round(float(reduction), 4)


class SavingsInputSerializer(serializers.Serializer):
    tender = serializers.SlugRelatedField(slug_field="reference", queryset=TenderCase.objects.all())
    region = code_field(Region.objects.filter(active=True))
    stage = serializers.ChoiceField(
        choices=SavingsRecord.Stage.choices,
        default=SavingsRecord.Stage.AWARDED,
        help_text="expected: a forecast before award (contract dates are ignored); "
        "awarded: the baseline against the new annual cost at award.",
    )
    baseline_annual_cost = serializers.DecimalField(**MONEY)
    new_annual_cost = serializers.DecimalField(**MONEY)
    method = code_field(SavingsMethod.objects.all())
    contract_start = serializers.DateField(required=False, allow_null=True)
    contract_end = serializers.DateField(required=False, allow_null=True)


class SavingsFilter(django_filters.FilterSet):
    tender = django_filters.CharFilter(field_name="tender__reference", label="Tender reference")
    region = django_filters.CharFilter(field_name="region__code", label="Region code")
    stage = django_filters.ChoiceFilter(choices=SavingsRecord.Stage.choices, label="Stage")
    origin = django_filters.ChoiceFilter(
        choices=[("joint", "joint"), ("regional", "regional")],
        method="filter_origin",
        label="joint: on a joint case; regional: a region's own contract",
    )

    class Meta:
        model = SavingsRecord
        fields = ["tender", "region", "stage", "origin"]

    def filter_origin(self, queryset, name, value):
        return queryset.filter(tender__isnull=(value == "regional"))


class SavingsViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Savings records with their stage (expected, awarded), joint and regional, and the
    realised figure of awarded ones; a region's officers record their own."""

    queryset = SavingsRecord.objects.select_related(
        "tender", "region", "category", "method", "recorded_by"
    )
    serializer_class = SavingsRecordSerializer
    permission_classes = [IsMember]
    filterset_class = SavingsFilter
    http_method_names = ["get", "post", "head", "options"]

    @extend_schema(
        request=SavingsInputSerializer,
        responses={
            201: OpenApiResponse(SavingsRecordSerializer, description="A new savings record."),
            200: OpenApiResponse(SavingsRecordSerializer, description="The record was updated."),
            **WRITE_ERRORS,
        },
    )
    def create(self, request, *args, **kwargs):
        """Record (or correct) a region's expected or awarded saving on a joint case."""
        serializer = SavingsInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        stage = data.pop("stage")
        existed = SavingsRecord.objects.filter(
            tender=data["tender"], region=data["region"], stage=stage
        ).exists()
        if stage == SavingsRecord.Stage.EXPECTED:
            data.pop("contract_start", None)
            data.pop("contract_end", None)
            record = services.savings_expect(actor=request.user, **data)
        else:
            record = services.savings_record(actor=request.user, **data)
        record = get_object_or_404(self.get_queryset(), pk=record.pk)
        code = status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        return Response(self.get_serializer(record).data, status=code)


class SavingsPlanSerializer(serializers.ModelSerializer):
    region = read_only_slug("code")
    owner = read_only_slug("username")

    class Meta:
        model = SavingsPlan
        fields = ["id", "region", "year", "owner", "forecast", "note", "updated_at"]
        read_only_fields = fields


class SavingsPlanViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The regions' savings plans per year: owner and forecast."""

    queryset = SavingsPlan.objects.select_related("region", "owner")
    serializer_class = SavingsPlanSerializer
    permission_classes = [IsMember]
    filterset_fields = ["year"]
