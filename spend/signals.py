"""What spend announces about the ledger, for the apps that keep rollups of it (kpi.facts).

spend may not import kpi; receivers run synchronously, inside the transaction that wrote
the lines, so the rollups commit (or roll back) with them.
"""

from django.dispatch import Signal

# A batch became current. Arguments: batch, period (start, end), replaced (ids of batches
# superseded whole), trimmed (ids of batches that lost their lines inside the period).
ledger_switched_in = Signal()

# Regions' current lines were mapped or matched again. Argument: region_ids.
ledger_rematched = Signal()
