"""POST /api/token/: a username and password give an API token that expires.

Tokens are django-rest-knox tokens: only a hash is stored, each expires after
``API_TOKEN_TTL_DAYS`` and a password change revokes them. Requests are throttled per
client address (``API_THROTTLE_TOKEN``), and failed attempts count towards django-axes'
lockout like the login form's.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle
from rest_framework.views import APIView

from rfi import services


class ApiTokenRequestSerializer(AuthTokenSerializer):
    """DRF's username and password, the username no longer than a username can be: a
    longer one went on to django-axes' records (255 characters), a server error."""

    username = serializers.CharField(
        label=AuthTokenSerializer().fields["username"].label,
        write_only=True,
        max_length=get_user_model()._meta.get_field(get_user_model().USERNAME_FIELD).max_length,
    )


class ObtainApiToken(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [AnonRateThrottle, ScopedRateThrottle]
    throttle_scope = "token"
    serializer_class = ApiTokenRequestSerializer

    @extend_schema(
        request=ApiTokenRequestSerializer,
        responses=inline_serializer(
            "ApiToken",
            {"token": serializers.CharField(), "expiry": serializers.DateTimeField()},
        ),
    )
    def post(self, request):
        serializer = ApiTokenRequestSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        secret, record = services.api_token_issue(user=serializer.validated_data["user"])
        return Response({"token": secret, "expiry": record.expiry})
