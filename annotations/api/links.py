"""Claim–event link proposals under /api/v1/links/ and event proposals under /api/v1/event-proposals/."""

from __future__ import annotations

from rest_framework import viewsets


class LinkViewSet(viewsets.GenericViewSet):
    pass


class EventProposalViewSet(viewsets.GenericViewSet):
    pass
