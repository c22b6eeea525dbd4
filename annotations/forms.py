"""Forms for accounts and for courses, their members and groups.

The forms only read what was typed; the services decide whether it may be done.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext_lazy as _

from annotations.models import CourseGroup, Document
from annotations.models.courses import Role


class SignupForm(UserCreationForm):
    """A username and a password, and an email address if the student wants to give one."""

    email = forms.EmailField(
        required=False,
        label=_("Email (optional)"),
        help_text=_("Only used to reach you about your courses; leave it empty if you prefer."),
    )

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")


class JoinForm(forms.Form):
    code = forms.CharField(
        label=_("Join code"),
        max_length=32,
        help_text=_("Your instructor gives you a code such as K7QX-M2PD."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )


class CourseForm(forms.Form):
    """A course's title and term, as created and as edited."""

    title = forms.CharField(label=_("Title"), max_length=200)
    term = forms.CharField(
        label=_("Term"), max_length=60, required=False, help_text=_("For example “Spring 2027”.")
    )


class CourseCreateForm(CourseForm):
    reading = forms.ModelChoiceField(
        label=_("Reading"),
        queryset=Document.objects.order_by("title"),
        empty_label=None,
        help_text=_("The text the course reads and annotates."),
    )


class MemberAddForm(forms.Form):
    username = forms.CharField(
        label=_("Username"), max_length=150, help_text=_("The person must have an account already.")
    )
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.STUDENT)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class MemberGroupForm(forms.Form):
    """Which group a student is in; the choices are the course's groups, read once per page."""

    group = forms.TypedChoiceField(label=_("Group"), required=False, coerce=int, empty_value=None, choices=())

    def __init__(self, *args: object, groups: list[CourseGroup], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["group"].choices = [("", _("No group")), *((g.pk, g.name) for g in groups)]


class GroupForm(forms.Form):
    name = forms.CharField(label=_("Group name"), max_length=100)
