"""What spend announces about the ledger, for the apps that keep rollups of it (kpi.facts).

spend may not import kpi; receivers run synchronously, inside the transaction that wrote
the lines, so the rollups commit (or roll back) with them.
"""

from django.dispatch import Signal

# An import starts streaming a batch's lines (before its COPY). Argument: batch. A receiver
# may return an observer with ``add(table)``: it is given every validated and annotated Arrow
# chunk of the file, then ``complete()`` (if it has one) once the last chunk was given, and
# comes back in ledger_switched_in's ``observed`` if the lines were written with exactly
# those values (kpi.import_facts).
ledger_import_started = Signal()

# A batch became current. Arguments: batch, period (start, end), replaced (ids of batches
# superseded whole), trimmed (ids of batches that lost their lines inside the period),
# observed (the observers of ledger_import_started whose chunks are the batch's lines, or ()).
ledger_switched_in = Signal()

# Regions' current lines were mapped or matched again. Argument: region_ids.
ledger_rematched = Signal()
