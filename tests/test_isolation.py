"""Every test starts from the same shared state, whatever the test before it did.

A request through the test client leaves its page's language active on the test's thread
(Django's LocaleMiddleware activates it and never deactivates it): a test reading a lazy
translation after an English request got English, so a Danish assertion failed or not
depending on the test that ran before (tests/kpi/test_action_plan.py, then
tests/rfi/test_kit_forms.py). The two tests below run in this order.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.utils import translation

pytestmark = pytest.mark.django_db


def test_a_page_asked_for_in_english_leaves_english_active_on_the_thread(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    response = client.get("/login/")

    assert response.status_code == 200
    assert response["Content-Language"] == "en"
    assert translation.get_language() == "en"


def test_the_next_test_starts_in_the_sites_language():
    assert translation.get_language() == settings.LANGUAGE_CODE
