"""The admin: every record can be curated by site staff, and only by them."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils.html import escape

from annotations.models import Claim, ClaimEventLink, Document, Paragraph, Section, Source
from tests.annotations.test_pages import more_claims
from tests.factories import AnnotationFactory
from tests.helpers import queries_for
from timeline.models import Actor, Event

pytestmark = pytest.mark.django_db

RECORDS = [Document, Section, Paragraph, Claim, Source, Actor, Event]


def changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def test_every_record_model_is_in_the_admin():
    assert all(admin.site.is_registered(model) for model in RECORDS)
    assert not admin.site.is_registered(ClaimEventLink)  # edited inline on claims and events


@pytest.mark.parametrize("model", RECORDS, ids=lambda m: m.__name__)
def test_staff_see_every_list_and_record(client, curator, paper, model):
    client.force_login(curator)
    obj = model.objects.first()

    listing = client.get(changelist(model))
    change = client.get(
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.pk])
    )

    assert listing.status_code == 200
    assert change.status_code == 200
    assert escape(str(obj)[:30]) in change.content.decode()


@pytest.mark.parametrize("model", RECORDS, ids=lambda m: m.__name__)
def test_admin_lists_run_a_fixed_number_of_queries(client, curator, paper, model):
    client.force_login(curator)
    before = queries_for(client, changelist(model))
    more_claims(paper, 20)

    assert queries_for(client, changelist(model)) == before


def test_the_claims_list_searches_and_filters(client, curator, paper):
    client.force_login(curator)

    response = client.get(changelist(Claim), {"q": "Almaty", "kind__exact": "factual"})

    shown = {claim.key for claim in response.context["cl"].result_list}
    assert shown
    assert all(Claim.objects.get(key=key).kind == "factual" for key in shown)


def test_a_claim_with_a_quote_not_in_its_paragraph_is_refused(client, curator, paper):
    client.force_login(curator)
    claim = Claim.objects.get(key="c-01-1")
    url = reverse("admin:annotations_claim_change", args=[claim.pk])
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields}
    data.update(
        {
            "quote": "Words the paper never wrote.",
            "cites": [s.pk for s in claim.cites.all()],
            "actors": [a.pk for a in claim.actors.all()],
            "event_links-TOTAL_FORMS": "0",
            "event_links-INITIAL_FORMS": "0",
        }
    )

    response = client.post(url, data)

    assert response.status_code == 200
    assert "The quote must be copied exactly from paragraph p-1." in response.content.decode()
    claim.refresh_from_db()
    assert claim.quote != "Words the paper never wrote."


@pytest.mark.parametrize("who", ["anonymous", "reader"])
def test_others_are_sent_to_the_admin_login(client, reader, paper, who):
    if who == "reader":
        client.force_login(reader)

    response = client.get(changelist(Claim))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize("model_name", ["course", "membership", "annotation", "tag"])
def test_staff_see_course_work_in_the_admin_in_a_fixed_number_of_queries(
    client, curator, course, author, model_name
):
    client.force_login(curator)
    note = AnnotationFactory(course=course, author=author, body="Admin-visible note")
    note.tags.create(name="admin-tag")
    url = reverse(f"admin:annotations_{model_name}_changelist")
    before = queries_for(client, url)
    for n in range(5):
        AnnotationFactory(course=course, author=author).tags.create(name=f"t{n}-{model_name}")

    assert queries_for(client, url) == before
    change = reverse(
        f"admin:annotations_{model_name}_change",
        args=[
            {
                "course": course,
                "membership": author.memberships.get(),
                "annotation": note,
                "tag": note.tags.get(),
            }[model_name].pk
        ],
    )
    assert client.get(change).status_code == 200


def test_annotations_cannot_be_added_or_their_words_changed_in_the_admin(client, curator, course, author):
    client.force_login(curator)
    note = AnnotationFactory(course=course, author=author, body="Original")

    assert client.get(reverse("admin:annotations_annotation_add")).status_code == 403
    page = client.get(reverse("admin:annotations_annotation_change", args=[note.pk]))
    assert "body" not in page.context["adminform"].form.fields
