"""The public supplier portal under /udbud/ (no login): pages, feeds, exports, OCDS, alerts.

Everything reads tender data through ``selectors`` (publishable cases, public fields
only); the models (``Subscription``, ``PublicTenderState``, ``SentChange``) stay in
``suppliers/models.py``. See docs/public.md and docs/ocds.md.
"""
