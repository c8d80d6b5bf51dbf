"""The plan's reference data: opt-out reasons, UFO criteria, savings methods, area mappings, settings.

The data lives in ``tenders/data/plan_reference.json``; ``seed_reference`` loads it.
Loading creates what is missing and leaves existing rows alone: after the first
load the secretariat owns these lists (admin), and a deploy that runs
``seed_reference`` again must not undo a weight or a label they changed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from tenders.models import (
    AreaMapping,
    OptOutReason,
    PlanSettings,
    SavingsMethod,
    ScoringCriterion,
    VolumeScoreThreshold,
)

PLAN_REFERENCE_FILE = Path(__file__).resolve().parent / "data" / "plan_reference.json"
SCORING_RUBRIC_FILE = Path(__file__).resolve().parent / "data" / "scoring_rubric.json"


@dataclass
class ReferenceLoadResult:
    created: int = 0
    unchanged: int = 0
    rubrics_filled: int = 0


@transaction.atomic
def plan_reference_load(*, path: Path = PLAN_REFERENCE_FILE) -> ReferenceLoadResult:
    """Create the missing opt-out reasons, criteria, methods and the settings row; idempotent."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    result = ReferenceLoadResult()
    for model, key in (
        (OptOutReason, "opt_out_reasons"),
        (ScoringCriterion, "scoring_criteria"),
        (SavingsMethod, "savings_methods"),
    ):
        for entry in data.get(key, []):
            values = dict(entry)
            code = values.pop("code")
            if "weight" in values:
                values["weight"] = Decimal(values["weight"])
            _obj, created = model.objects.get_or_create(code=code, defaults=values)
            if created:
                result.created += 1
            else:
                result.unchanged += 1
    for entry in data.get("volume_score_thresholds", []):
        _obj, created = VolumeScoreThreshold.objects.get_or_create(
            score=entry["score"],
            defaults={"min_annual_spend": Decimal(entry["min_annual_spend"])},
        )
        if created:
            result.created += 1
        else:
            result.unchanged += 1
    for entry in data.get("area_mappings", []):
        values = dict(entry)
        prefix = values.pop("prefix")
        _obj, created = AreaMapping.objects.get_or_create(prefix=prefix, defaults=values)
        if created:
            result.created += 1
        else:
            result.unchanged += 1
    result.rubrics_filled = scoring_rubric_fill()
    if PlanSettings.objects.exists():
        result.unchanged += 1
    else:
        PlanSettings.objects.create(pk=1, **data.get("plan_settings", {}))
        result.created += 1
    return result


def scoring_rubric_fill(*, path: Path = SCORING_RUBRIC_FILE) -> int:
    """Give each criterion with an empty rubric the texts of the file; returns how many.

    A rubric the secretariat has written (even partly) is left as it is.
    """
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    filled = 0
    for criterion in ScoringCriterion.objects.filter(code__in=[k for k in data if k[0] != "_"]):
        if criterion.rubric:
            continue
        criterion.rubric = data[criterion.code]
        criterion.save(update_fields=["rubric"])
        filled += 1
    return filled
