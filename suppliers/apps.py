from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SuppliersConfig(AppConfig):
    name = "suppliers"
    verbose_name = _("Suppliers and contracts")

    def ready(self) -> None:
        from suppliers.public import cache as public_cache

        public_cache.connect()
        # Register the tasks in every process: tenders looks suppliers.regional_contracts_sync
        # up by name when an option is exercised (rfi.tasks.enqueue_on_commit).
        from suppliers import tasks  # noqa: F401
