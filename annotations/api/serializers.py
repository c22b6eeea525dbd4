"""Read shapes of the reading's records, keyed by natural keys."""

from __future__ import annotations

from rest_framework import serializers

from annotations.models import (
    Claim,
    ClaimEventLink,
    Document,
    Paragraph,
    Section,
    Source,
)


class SectionSerializer(serializers.ModelSerializer):
    document = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    parent = serializers.SlugRelatedField(slug_field="key", read_only=True)

    class Meta:
        model = Section
        fields = ["key", "document", "title", "level", "order", "parent"]


class DocumentSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:document-detail", lookup_field="slug")
    sections = SectionSerializer(many=True, read_only=True)

    class Meta:
        model = Document
        fields = [
            "url",
            "slug",
            "title",
            "authors",
            "affiliation",
            "note",
            "keywords",
            "language",
            "sections",
        ]


class ParagraphSerializer(serializers.ModelSerializer):
    document = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    section = serializers.SlugRelatedField(slug_field="key", read_only=True)
    claims = serializers.SlugRelatedField(slug_field="key", many=True, read_only=True)

    class Meta:
        model = Paragraph
        fields = ["id", "anchor", "order", "document", "section", "text", "claims"]


class ClaimEventLinkSerializer(serializers.ModelSerializer):
    event = serializers.SlugRelatedField(slug_field="key", read_only=True)
    date_disagrees = serializers.BooleanField(read_only=True)

    class Meta:
        model = ClaimEventLink
        fields = ["event", "relation", "note", "date_disagrees"]


class ClaimSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:claim-detail", lookup_field="key")
    document = serializers.CharField(source="paragraph.document.slug", read_only=True)
    section = serializers.CharField(source="paragraph.section.key", read_only=True)
    paragraph = serializers.CharField(source="paragraph.anchor", read_only=True)
    stated_date = serializers.CharField(source="stated_date_iso", read_only=True)
    cites = serializers.SlugRelatedField(slug_field="key", many=True, read_only=True)
    actors = serializers.SlugRelatedField(slug_field="key", many=True, read_only=True)
    events = ClaimEventLinkSerializer(source="event_links", many=True, read_only=True)

    class Meta:
        model = Claim
        fields = [
            "url", "key", "document", "section", "paragraph", "quote", "start", "end", "paraphrase",
            "kind", "variable", "step", "stated_date", "note", "cites", "actors", "events",
        ]  # fmt: skip


class SourceSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:source-detail", lookup_field="key")
    link = serializers.URLField(source="url", read_only=True)
    citation = serializers.CharField(read_only=True)

    class Meta:
        model = Source
        fields = [
            "url", "key", "kind", "authors", "year", "title", "container", "publisher", "place", "pages",
            "link", "doi", "accessed", "from_paper", "in_reference_list", "raw", "note", "citation",
        ]  # fmt: skip
