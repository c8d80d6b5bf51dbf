from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from kpi import api as kpi_api
from rfi import api, views
from rfi.api_tokens import ObtainApiToken
from rfi.forms import LoginForm
from spend import api as spend_api
from suppliers import api as suppliers_api
from tenders import api as tenders_api

router = DefaultRouter()
router.register("regions", api.RegionViewSet, basename="region")
router.register("partner-bodies", api.PartnerBodyViewSet, basename="partnerbody")
router.register("categories", api.CategoryViewSet, basename="category")
router.register("tenders", tenders_api.TenderViewSet, basename="tender")
router.register("participations", tenders_api.ParticipationViewSet, basename="participation")
router.register("candidates", tenders_api.CandidateViewSet, basename="candidate")
router.register("score-sheets", tenders_api.ScoreSheetViewSet, basename="scoresheet")
router.register("savings", tenders_api.SavingsViewSet, basename="savings")
router.register("savings-plans", tenders_api.SavingsPlanViewSet, basename="savings-plans")
router.register("contracts", suppliers_api.ContractViewSet, basename="contract")
router.register("suppliers", suppliers_api.SupplierViewSet, basename="supplier")
router.register("contract-extensions", suppliers_api.ExtensionViewSet, basename="contractextension")
router.register("spend", spend_api.SpendViewSet, basename="spend")
router.register("ledger-lines", spend_api.LedgerLineViewSet, basename="ledgerline")
router.register("mapping-rules", spend_api.MappingRuleViewSet, basename="mappingrule")
router.register("exclusion-rules", spend_api.ExclusionRuleViewSet, basename="exclusionrule")
router.register("ledger-batches", spend_api.ImportBatchViewSet, basename="importbatch")
router.register("kpi-snapshots", kpi_api.KpiSnapshotViewSet, basename="kpisnapshot")

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("metrics", views.metrics_view, name="metrics"),
    path("mig/", views.me, name="me"),
    path("mig/token/<str:token_key>/slet/", views.api_token_revoke, name="api_token_revoke"),
    path("historik/", views.audit_log, name="audit_log"),
    path("kategorier/", views.categories, name="categories"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "adgangskode/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "adgangskode/skiftet/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    # The language switch needs no CSRF token: a forged request can only change the
    # visitor's language, and without a token the cached public pages carry no
    # per-visitor secret (no Set-Cookie, no Vary: Cookie). docs/security.md.
    path("i18n/setlang/", csrf_exempt(set_language), name="set_language"),
    path("fup/", include("tenders.urls")),
    path("udbud/", include("suppliers.public.urls")),
    path("kontrakter/", include("suppliers.urls")),
    path("forbrug/", include("spend.urls")),
    path("kpi/", include("kpi.urls")),
    path("api/v1/me/", api.me, name="api-me"),
    path("api/v1/", include(router.urls)),
    path("api/token/", ObtainApiToken.as_view(), name="api-token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI styles itself inline; allow that on this page only.
    path(
        "api/docs/",
        csp_update({"style-src": [UNSAFE_INLINE]})(
            SpectacularSwaggerSplitView.as_view(url_name="schema")
        ),
        name="api-docs",
    ),
    path("admin/", admin.site.urls),
]
