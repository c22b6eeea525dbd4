"""A signed-in user's notifications and their delivery preferences.

Only the recipient sees or opens a notification; anyone else's is a 404.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language_info, gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from annotations.models.discussion import Delivery, NotificationKind
from annotations.services import notifications as services
from annotations.templatetags.numbers import GroupedCount

PAGE_SIZE = 50


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    notifications = services.notifications_for(request.user).select_related("actor", "course")[:PAGE_SIZE]
    return render(request, "annotations/notifications/list.html", {"notifications": notifications})


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    marked = services.notification_mark_read(user=request.user)
    messages.success(
        request,
        ngettext(
            "Marked %(count)s notification(s) as read.", "Marked %(count)s notification(s) as read.", marked
        )
        % {"count": GroupedCount(marked)},
    )
    return redirect("notifications:list")


@login_required
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one notification read and follow it to what it is about."""
    notification = get_object_or_404(services.notifications_for(request.user), pk=pk)
    services.notification_mark_read(user=request.user, ids=[notification.pk])
    # The url is written by our services, but never follow one to another site.
    if not url_has_allowed_host_and_scheme(notification.url, allowed_hosts={request.get_host()}):
        return redirect("notifications:list")
    path, _, fragment = notification.url.partition("#")
    if fragment.startswith("post-") and "?" not in path:
        # Written before threads were paged: name the post so the page that holds it opens.
        return redirect(f"{path}?post={fragment.removeprefix('post-')}#{fragment}")
    return redirect(notification.url)


class PreferencesForm(forms.Form):
    """One choice of delivery per kind of notification, and the language e-mails are written in."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for kind, label in NotificationKind.choices:
            self.fields[kind] = forms.ChoiceField(
                label=str(label).capitalize(), choices=Delivery.choices, widget=forms.RadioSelect
            )
        self.fields["language"] = forms.ChoiceField(
            label=_("Language of your e-mails"),
            choices=[(code, name_local(code)) for code, _name in settings.LANGUAGES],
            required=False,
            help_text=_("Signing in or using the language switch at the foot of the page also sets it."),
        )

    def deliveries(self) -> dict[str, str]:
        return {kind: self.cleaned_data[kind] for kind in NotificationKind.values}


def name_local(code: str) -> str:
    return get_language_info(code)["name_local"]


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    initial = {**services.preferences_for(request.user), "language": services.language_of(request.user)}
    form = PreferencesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                services.notification_preferences_set(user=request.user, deliveries=form.deliveries())
                if form.cleaned_data["language"]:  # left out: the language stays as it was
                    services.language_record(user=request.user, language=form.cleaned_data["language"])
        except ValidationError as error:
            for name, errors in error.message_dict.items():
                for message in errors:
                    form.add_error(name if name in form.fields else None, message)
        else:
            messages.success(request, gettext("Your notification preferences are saved."))
            return redirect("notifications:preferences")
    return render(request, "annotations/notifications/preferences.html", {"form": form})
