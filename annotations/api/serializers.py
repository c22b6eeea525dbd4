"""Read shapes of the reading's records, keyed by natural keys."""

from __future__ import annotations

from collections.abc import Iterable

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from annotations.api.lean import LeanListSerializer, detail_urls, prefetched
from annotations.api.moderation import ModeratedFields
from annotations.models import (
    Claim,
    ClaimEventLink,
    Course,
    Document,
    Paragraph,
    Section,
    Source,
)


class SectionSerializer(serializers.ModelSerializer):
    document = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    parent = serializers.SlugRelatedField(slug_field="key", read_only=True, allow_null=True)

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
        list_serializer_class = LeanListSerializer

    def represent_rows(self, rows: Iterable[Claim]) -> list[dict]:
        """What the fields give for each row (see ``LeanListSerializer``)."""
        url = detail_urls(self.context, "api:claim-detail", lookup="key")
        return [
            {
                "url": url(claim.key),
                "key": claim.key,
                "document": claim.paragraph.document.slug,
                "section": claim.paragraph.section.key,
                "paragraph": claim.paragraph.anchor,
                "quote": claim.quote,
                "start": claim.start,
                "end": claim.end,
                "paraphrase": claim.paraphrase,
                "kind": claim.kind,
                "variable": claim.variable,
                "step": claim.step,
                "stated_date": claim.stated_date_iso,
                "note": claim.note,
                "cites": [source.key for source in prefetched(claim, "cites")],
                "actors": [actor.key for actor in prefetched(claim, "actors")],
                "events": [
                    {
                        "event": link.event.key,
                        "relation": link.relation,
                        "note": link.note,
                        "date_disagrees": link.date_disagrees,
                    }
                    for link in prefetched(claim, "event_links")
                ],
            }
            for claim in rows
        ]


@extend_schema_field({"type": "string", "anyOf": [{"format": "uri"}, {"maxLength": 0}]})
class OptionalURLField(serializers.CharField):
    """A URL, or ``""`` where none is recorded: the schema says so (``""`` is no URI)."""


class SourceSerializer(ModeratedFields, serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:source-detail", lookup_field="key")
    link = OptionalURLField(source="url", read_only=True)
    citation = serializers.CharField(read_only=True)
    course = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    added_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Source
        fields = [
            "url", "key", "kind", "authors", "year", "title", "container", "publisher", "place", "pages",
            "link", "doi", "accessed", "from_paper", "in_reference_list", "raw", "note", "citation",
            "course", "added_by", "created_at", "moderation", "moderation_reason",
        ]  # fmt: skip


class SourceAddedSerializer(SourceSerializer):
    """A source as answered to ``POST sources/``: ``reused`` when it was already there."""

    reused = serializers.BooleanField(read_only=True)

    class Meta(SourceSerializer.Meta):
        fields = [*SourceSerializer.Meta.fields, "reused"]


class _CourseField(serializers.PrimaryKeyRelatedField):
    """A course the asker may see; a missing and a forbidden one answer alike."""

    def get_queryset(self):
        from annotations.selectors import courses_for_user

        return courses_for_user(self.context["request"].user)


class SourceCreateSerializer(serializers.Serializer):
    """What ``POST sources/`` takes; the service checks and normalises it."""

    course = _CourseField(queryset=Course.objects.none())
    # The reading's explanatory notes are not something a member adds.
    kind = serializers.ChoiceField(choices=[c for c in Source.Kind.choices if c[0] != Source.Kind.NOTE])
    authors = serializers.ListField(
        child=serializers.CharField(max_length=200),
        required=False,
        max_length=100,
        help_text='People as "Family, Given"; an organisation by its name.',
    )
    year = serializers.IntegerField(required=False, allow_null=True)
    title = serializers.CharField(max_length=500)
    container = serializers.CharField(max_length=300, required=False, allow_blank=True)
    publisher = serializers.CharField(max_length=200, required=False, allow_blank=True)
    place = serializers.CharField(max_length=200, required=False, allow_blank=True)
    pages = serializers.CharField(max_length=50, required=False, allow_blank=True)
    url = serializers.CharField(max_length=500, required=False, allow_blank=True)
    doi = serializers.CharField(max_length=200, required=False, allow_blank=True)
    accessed = serializers.DateField(required=False, allow_null=True)
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True)


class SourceImportSerializer(serializers.Serializer):
    course = _CourseField(queryset=Course.objects.none())
    format = serializers.ChoiceField(choices=["bibtex", "csl-json"])
    text = serializers.CharField(max_length=1_000_000, trim_whitespace=False)


class SourceImportErrorSerializer(serializers.Serializer):
    entry = serializers.CharField()
    messages = serializers.ListField(child=serializers.CharField())


class SourceImportReportSerializer(serializers.Serializer):
    added = SourceSerializer(many=True)
    reused = SourceSerializer(many=True)
    errors = SourceImportErrorSerializer(many=True)
