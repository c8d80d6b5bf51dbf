"""A password change revokes the user's API tokens, whichever path changed it.

The password form, the admin, ``changepassword`` and a reset all end in saving the user
with a new hash, so the rule sits on the save rather than in each view.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from rfi import services


@receiver(pre_save, sender=settings.AUTH_USER_MODEL)
def _remember_password_change(sender, instance, update_fields=None, **kwargs):
    # A login saves only last_login: no need to read the stored hash then.
    if instance.pk is None or (update_fields is not None and "password" not in update_fields):
        return
    stored = get_user_model().objects.filter(pk=instance.pk).values_list("password", flat=True)
    instance._password_changed = stored.first() not in (None, instance.password)


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def _revoke_tokens_after_password_change(sender, instance, created, **kwargs):
    if not created and getattr(instance, "_password_changed", False):
        services.api_tokens_revoke_all(user=instance)
        instance._password_changed = False
