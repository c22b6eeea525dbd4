"""Challenges under /api/v1/challenges/."""

from __future__ import annotations

from rest_framework import viewsets


class ChallengeViewSet(viewsets.GenericViewSet):
    pass
