"""Read shapes of actors and events, keyed by natural keys."""

from __future__ import annotations

from rest_framework import serializers

from timeline.models import Actor, Event


class ActorSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:actor-detail", lookup_field="key")

    class Meta:
        model = Actor
        fields = ["url", "key", "kind", "name", "iso_code", "aliases", "description"]


class EventSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:event-detail", lookup_field="key")
    date = serializers.CharField(source="date_iso", read_only=True, help_text="YYYY, YYYY-MM or YYYY-MM-DD")
    end_date = serializers.CharField(source="end_date_iso", read_only=True)
    participants = serializers.SlugRelatedField(slug_field="key", many=True, read_only=True)
    sources = serializers.SlugRelatedField(slug_field="key", many=True, read_only=True)

    class Meta:
        model = Event
        fields = [
            "url", "key", "title", "date", "precision", "end_date", "end_precision", "place", "type",
            "description", "participants", "sources",
        ]  # fmt: skip
