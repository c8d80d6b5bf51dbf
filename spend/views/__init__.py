"""Spend in the browser: analysis pages and exports, the rule pages, ledger uploads."""

from spend.views.analysis import (
    TABLES,
    export,
    index,
    months,
    off_contract,
    small_invoices,
    suppliers,
    unmapped,
)
from spend.views.rules import remap, rule_delete, rule_form, rule_list
from spend.views.upload import (
    batch,
    batch_cancel,
    batch_confirm,
    batch_errors,
    batch_file,
    batch_status,
    upload,
    upload_template,
)

__all__ = [
    "TABLES",
    "batch",
    "batch_cancel",
    "batch_confirm",
    "batch_errors",
    "batch_file",
    "batch_status",
    "export",
    "index",
    "months",
    "off_contract",
    "remap",
    "rule_delete",
    "rule_form",
    "rule_list",
    "small_invoices",
    "suppliers",
    "unmapped",
    "upload",
    "upload_template",
]
