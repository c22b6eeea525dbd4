"""Forms for annotating the reading, and for replies."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from annotations.models import Claim
from annotations.models.annotation import Motivation, Visibility


class TagsField(forms.CharField):
    """Tags typed as one line, separated by commas."""

    def to_python(self, value: str | None) -> list[str]:
        return [tag.strip() for tag in (value or "").split(",") if tag.strip()]

    def prepare_value(self, value: object) -> str:
        return ", ".join(value) if isinstance(value, list | tuple) else (value or "")


class AnnotationForm(forms.Form):
    """A new annotation on one paragraph. The selection script fills quote, start and end;
    without it, the quote is typed or pasted and found in the paragraph."""

    exact = forms.CharField(
        label=_("Quoted text"),
        widget=forms.Textarea(attrs={"rows": 2}),
        strip=False,
        help_text=_("Select words in the paragraph, or copy them here exactly."),
    )
    start = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=0)
    end = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=0)
    claim = forms.ModelChoiceField(
        queryset=Claim.objects.none(), required=False, to_field_name="key", label=_("About the claim")
    )
    motivation = forms.ChoiceField(
        choices=Motivation.choices, initial=Motivation.COMMENTING, label=_("Kind of note")
    )
    tags = TagsField(required=False, label=_("Tags"), help_text=_("Separate tags with commas."))
    body = forms.CharField(
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        label=_("Note"),
        help_text=_("Markdown: **bold**, *italic*, [links](https://…), lists."),
        max_length=20000,
    )
    visibility = forms.ChoiceField(
        choices=Visibility.choices, initial=Visibility.PRIVATE, label=_("Who sees it")
    )

    def __init__(self, *args: object, paragraph=None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        if paragraph is not None:
            self.fields["claim"].queryset = paragraph.claims.all()
            self.fields["claim"].label_from_instance = lambda claim: f"{claim.key}: {claim.paraphrase}"
            self.auto_id = f"id_{paragraph.anchor}_%s"


class AnnotationEditForm(forms.Form):
    motivation = forms.ChoiceField(choices=Motivation.choices, label=_("Kind of note"))
    tags = TagsField(required=False, label=_("Tags"), help_text=_("Separate tags with commas."))
    body = forms.CharField(
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        label=_("Note"),
        max_length=20000,
    )
    visibility = forms.ChoiceField(choices=Visibility.choices, label=_("Who sees it"))


class ReplyForm(forms.Form):
    body = forms.CharField(
        strip=False, widget=forms.Textarea(attrs={"rows": 3}), label=_("Reply"), max_length=20000
    )
