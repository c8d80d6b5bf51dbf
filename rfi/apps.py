from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RfiConfig(AppConfig):
    name = "rfi"
    verbose_name = _("Collaboration and reference data")

    def ready(self):
        from rfi import signals  # noqa: F401  (connects the receivers)
