"""Nothing of its own: the import engine moved to spend.importer.pipeline (issue 11 §2) and
the batches' read to spend.selectors.

Kept only for spend/views_upload.py, which another branch is moving into a spend/views/
package: once that lands, its imports point at pipeline and selectors and this file goes.
"""

from __future__ import annotations

from spend.importer.pipeline import ledger_upload
from spend.selectors import ledger_batches_visible_to

__all__ = ["ledger_batches_visible_to", "ledger_upload"]
