"""Every "who may do what" rule of the collaboration, in one place.

Views, the API and the admin all ask these functions; the permission-matrix
test (tests/rfi/test_permission_matrix.py) walks every route against them.
Small ``can_<verb>_<noun>(user, obj)`` functions, one condition per line
(Zulip's access_stream_by_id pattern).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission

from rfi.models import Membership, Region

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    User = AbstractBaseUser | AnonymousUser

Role = Membership.Role


def is_secretariat(user: User) -> bool:
    """The collaboration's secretariat is Django staff."""
    return bool(user.is_authenticated and user.is_active and user.is_staff)


def roles_in(user: User, region: Region) -> set[str]:
    if not user.is_authenticated:
        return set()
    return {m.role for m in _memberships(user) if m.region_id == region.pk}


def regions_with_role(user: User, role: str) -> set[int]:
    """Ids of the regions where the user holds ``role``."""
    if not user.is_authenticated:
        return set()
    return {m.region_id for m in _memberships(user) if m.role == role}


def regions_where(user: User, predicate: Callable[[User, Region], bool]) -> list[Region]:
    """The active regions, by code, where ``predicate(user, region)`` allows it.

    E.g. ``regions_where(user, can_edit_spend_rules)`` for a form's choices or a list's
    scope; a rule with more arguments goes through a lambda.
    """
    return [r for r in Region.objects.filter(active=True).order_by("code") if predicate(user, r)]


def has_role(user: User, role: str) -> bool:
    return bool(regions_with_role(user, role))


def _memberships(user) -> list[Membership]:
    # Cached on the user object for the request: the nav and several checks ask.
    cached = getattr(user, "_rfi_memberships", None)
    if cached is None:
        cached = list(Membership.objects.filter(user=user, region__active=True))
        user._rfi_memberships = cached
    return cached


def is_member(user: User) -> bool:
    """Holds any role in an active region, or is the secretariat."""
    if not (user.is_authenticated and user.is_active):
        return False
    return is_secretariat(user) or bool(_memberships(user))


# Pages and actions that exist so far -----------------------------------------------


def can_view_internal_pages(user: User) -> bool:
    """The collaboration's working pages (tender plan, contracts, spend, KPIs)."""
    return is_member(user)


def can_view_own_profile(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active)


def can_use_api(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active)


def can_view_reference_data(user: User) -> bool:
    """Regions, partner bodies and the CPV tree: every signed-in user."""
    return bool(user.is_authenticated and user.is_active)


def can_manage_reference_data(user: User) -> bool:
    """Create or change regions, partner bodies, categories and memberships."""
    return is_secretariat(user)


def can_view_audit_log(user: User) -> bool:
    """The collaboration-wide change history (it includes who holds which role)."""
    return is_secretariat(user)


def can_access_admin(user: User) -> bool:
    return is_secretariat(user)


def can_view_health(user: User) -> bool:
    """/healthz answers everyone: load balancers and monitors have no account."""
    return True


def can_view_metrics(user: User) -> bool:
    """/metrics: the operator. Prometheus itself sends METRICS_TOKEN instead (rfi.metrics)."""
    return is_secretariat(user)


# DRF adapters -------------------------------------------------------------------------


class ReferenceDataPermission(BasePermission):
    """Read for every signed-in user, write for the secretariat."""

    def has_permission(self, request, view) -> bool:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return can_view_reference_data(request.user)
        return can_manage_reference_data(request.user)


# View adapter -------------------------------------------------------------------------


def require(predicate):
    """Guard a view with a predicate: anonymous users go to login, others get 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if predicate(request.user):
                return view(request, *args, **kwargs)
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            raise PermissionDenied

        wrapped.rfi_predicate = predicate
        return wrapped

    return decorator


# The joint tender plan (tenders) ------------------------------------------------------


def is_officer_of(user: User, region) -> bool:
    return region is not None and region.pk in regions_with_role(user, Role.OFFICER)


def can_create_tender(user: User) -> bool:
    """Officers log cases their region leads; the secretariat logs any case."""
    return is_secretariat(user) or has_role(user, Role.OFFICER)


def can_lead_tender_as(user: User, region) -> bool:
    """Whether the user may name this region (None: a partner body) as the lead."""
    if is_secretariat(user):
        return True
    return is_officer_of(user, region)


def can_edit_tender(user: User, tender) -> bool:
    """The lead region's officers and the secretariat edit the case itself."""
    if is_secretariat(user):
        return True
    return is_officer_of(user, tender.lead_region)


def can_set_participation(user: User, participation) -> bool:
    """Each region's officers set only their own region's participation."""
    if is_secretariat(user):
        return True
    return is_officer_of(user, participation.region)


def can_view_internal_notes(user: User, tender) -> bool:
    return can_view_internal_pages(user)


def can_manage_plan_settings(user: User) -> bool:
    """Opt-out reasons, the justification minimum, scoring weights, savings methods."""
    return is_secretariat(user)


def can_propose_candidate(user: User) -> bool:
    return is_secretariat(user) or has_role(user, Role.UFO) or has_role(user, Role.OFFICER)


def can_score_candidate(user: User, candidate=None) -> bool:
    """UFO members score candidate areas."""
    return has_role(user, Role.UFO)


def can_recommend_candidate(user: User, candidate=None) -> bool:
    return is_secretariat(user) or has_role(user, Role.UFO)


def can_recommend_before_all_scored(user: User, candidate=None) -> bool:
    """The secretariat may recommend before every UFO member has scored, giving a reason."""
    return is_secretariat(user)


def can_use_ufo_menu(user: User) -> bool:
    """The top-level UFO menu entry: UFO members, and the secretariat that runs the round."""
    return is_secretariat(user) or has_role(user, Role.UFO)


def can_edit_scoring_rubric(user: User) -> bool:
    """What each score 1–5 means per criterion is the secretariat's to write."""
    return is_secretariat(user)


def can_decide_candidate(user: User, candidate=None) -> bool:
    """The decision page: the chiefs vote there, the secretariat records a meeting's decision."""
    return is_secretariat(user) or has_role(user, Role.CHIEF)


def can_vote_candidate(user: User, region=None) -> bool:
    """A region's procurement chief casts that region's vote (any region's, without one)."""
    if region is None:
        return has_role(user, Role.CHIEF)
    return region.pk in regions_with_role(user, Role.CHIEF)


def can_record_meeting_decision(user: User, candidate=None) -> bool:
    """The secretariat records the chiefs' meeting decision on everyone's behalf."""
    return is_secretariat(user)


def can_record_savings(user: User, tender, region) -> bool:
    """A region's officers record their own region's savings; the secretariat any."""
    if is_secretariat(user):
        return True
    return is_officer_of(user, region)


def can_edit_savings_plan(user: User, region) -> bool:
    """A region's officers and chief keep its savings plan; the secretariat any region's."""
    if is_secretariat(user):
        return True
    return is_officer_of(user, region) or is_chief_of(user, region)


def can_own_savings_plan(user: User, region) -> bool:
    """A plan's owner is a user of the region (any role)."""
    return bool(user.is_active and roles_in(user, region))


def can_import_plan(user: User) -> bool:
    return is_secretariat(user)


# The contract registry (suppliers) ----------------------------------------------------


def is_chief_of(user: User, region) -> bool:
    return region is not None and region.pk in regions_with_role(user, Role.CHIEF)


def can_view_all_contracts(user: User) -> bool:
    """The secretariat and the UFO group read every region's contracts."""
    if is_secretariat(user):
        return True
    return has_role(user, Role.UFO)


def can_view_region_contracts(user: User, region) -> bool:
    """Officers and chiefs read their own region's contracts; see can_view_all_contracts."""
    if can_view_all_contracts(user):
        return True
    if is_officer_of(user, region):
        return True
    return is_chief_of(user, region)


def can_view_contract(user: User, contract) -> bool:
    return can_view_region_contracts(user, contract.region)


def can_register_contract(user: User) -> bool:
    """Officers register their region's contracts; the secretariat any region's."""
    return is_secretariat(user) or has_role(user, Role.OFFICER)


def can_register_contract_for(user: User, region) -> bool:
    if is_secretariat(user):
        return True
    return is_officer_of(user, region)


def can_edit_contract(user: User, contract) -> bool:
    """A region's officers and the secretariat change and delete its contracts."""
    return can_register_contract_for(user, contract.region)


def can_import_contracts(user: User) -> bool:
    """Officers import their own region's contracts (every row's region checked)."""
    return can_register_contract(user)


# Spend analysis and the mapping rules (spend) -------------------------------------------


def can_view_all_regions_spend(user: User) -> bool:
    """The collaboration-wide spend pages (all regions added up): chiefs, UFO, secretariat."""
    if is_secretariat(user):
        return True
    if has_role(user, Role.CHIEF):
        return True
    return has_role(user, Role.UFO)


def can_view_region_spend(user: User, region) -> bool:
    """One region's spend and ledger lines: whoever holds a role in it, and the secretariat."""
    if is_secretariat(user):
        return True
    return region is not None and bool(roles_in(user, region))


def can_manage_spend_rules(user: User) -> bool:
    """Write mapping/exclusion rules or column mappings for at least one region."""
    return is_secretariat(user) or has_role(user, Role.OFFICER)


def can_edit_spend_rules(user: User, region) -> bool:
    """A region's officers its own rules; collaboration-wide rules (None) the secretariat."""
    if is_secretariat(user):
        return True
    return is_officer_of(user, region)


def can_remap_spend(user: User, region) -> bool:
    """Re-apply the rules to the lines already loaded (region None: every region)."""
    return can_edit_spend_rules(user, region)


def can_upload_ledger(user: User, region) -> bool:
    """Ledger extracts: a region's officers upload its own (page or API); the secretariat any."""
    if is_secretariat(user):
        return True
    return is_officer_of(user, region)


# Strategy KPI dashboards (kpi) -----------------------------------------------------------


def can_view_collaboration_kpis(user: User) -> bool:
    """The collaboration dashboard and the regions side by side: chiefs, UFO, secretariat."""
    return can_view_all_regions_spend(user)


def can_view_region_kpis(user: User, region) -> bool:
    """A region's KPI cards and drill-downs: its own people; chiefs, UFO, secretariat any."""
    if can_view_collaboration_kpis(user):
        return True
    return can_view_region_spend(user, region)


# Strategies and their action plans (kpi) -------------------------------------------------


def can_view_strategies(user: User) -> bool:
    """The strategies with their periods and targets: whoever sees the collaboration's KPIs."""
    return can_view_collaboration_kpis(user)


def can_manage_strategies(user: User) -> bool:
    """The secretariat enters a new strategy (from a copy of the previous one)."""
    return is_secretariat(user)


def can_follow_action_plan(user: User) -> bool:
    """The strategy's action plan page: the procurement chiefs (and, as with the
    collaboration dashboard, the UFO group) and the secretariat."""
    return can_view_collaboration_kpis(user)


def can_update_activity(user: User, activity=None) -> bool:
    """The secretariat keeps the action plan's activities up to date (status and note)."""
    return is_secretariat(user)
