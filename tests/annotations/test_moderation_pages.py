"""Moderation in the pages: flagging, placeholders for hidden work, pending work, staff acts in
place, the review queue with its filters and bulk acts, pre-moderation switches, who may do what."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from annotations.models import AuditEntry, Flag, Membership, ModerationItem, Post
from annotations.models.moderated import ModerationState
from annotations.models.moderation import ItemStatus
from annotations.services import moderation as moderation_services
from annotations.services import threads as thread_services
from annotations.views import moderation as moderation_views
from tests.helpers import queries_for

pytestmark = pytest.mark.django_db

SECRET = "Something off-topic about football."


@pytest.fixture
def thread(course, author):
    return thread_services.thread_create(user=author, course=course, title="On p-1", body="Opening post.")


@pytest.fixture
def post(thread, author):
    return thread_services.post_create(user=author, thread=thread, body=SECRET)


def thread_url(thread) -> str:
    return reverse("threads:detail", args=[thread.course_id, thread.pk])


def flag_url(course, kind, work) -> str:
    return reverse("moderation:flag", args=[course.pk, kind, work.pk])


def queue_url(course) -> str:
    return reverse("moderation:queue", args=[course.pk])


def page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def act(user, item, action, reason=""):
    item.refresh_from_db()
    return moderation_services.moderate(
        user=user, item=item, action=action, reason=reason, expected_version=item.version
    )


# -- flagging --------------------------------------------------------------------------------


def test_a_member_flags_a_post_from_its_thread(client, course, thread, post, groupmate):
    client.force_login(groupmate)
    assert "Send the flag" in page(client, thread_url(thread))

    response = client.post(
        flag_url(course, "post", post),
        {"reason": "off_topic", "next": thread_url(thread)},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == thread_url(thread)
    assert "Thank you: the course&#x27;s staff will review it." in response.content.decode()
    flag = Flag.objects.get()
    assert (flag.flagger, flag.reason, flag.item.post) == (groupmate, "off_topic", post)


def test_the_author_gets_no_flag_form_and_flagging_own_work_is_refused(client, course, thread, post, author):
    client.force_login(author)
    text = page(client, thread_url(thread))
    assert f'action="{flag_url(course, "post", post)}"' not in text

    response = client.post(flag_url(course, "post", post), {"reason": "spam"}, follow=True)

    assert "You cannot flag your own work" in response.content.decode()
    assert not Flag.objects.exists()


def test_flagging_twice_is_refused(client, course, post, groupmate):
    client.force_login(groupmate)
    client.post(flag_url(course, "post", post), {"reason": "spam"})
    response = client.post(flag_url(course, "post", post), {"reason": "harassment"}, follow=True)

    assert "You have already flagged this." in response.content.decode()
    assert list(Flag.objects.values_list("reason", flat=True)) == ["spam"]


def test_other_needs_words(client, course, post, groupmate):
    client.force_login(groupmate)
    response = client.post(flag_url(course, "post", post), {"reason": "other", "text": " "}, follow=True)

    assert "Say what is wrong" in response.content.decode()
    assert not Flag.objects.exists()
    client.post(flag_url(course, "post", post), {"reason": "other", "text": "Copied from a blog."})
    assert Flag.objects.get().text == "Copied from a blog."


def test_a_next_to_another_site_is_ignored(client, course, post, groupmate):
    client.force_login(groupmate)
    response = client.post(
        flag_url(course, "post", post), {"reason": "spam", "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]


def test_work_the_user_cannot_see_cannot_be_flagged(client, course, post, other_course_student, outsider):
    for user in (other_course_student, outsider):
        client.force_login(user)
        assert client.post(flag_url(course, "post", post), {"reason": "spam"}).status_code == 404
    assert not Flag.objects.exists()


def test_anonymous_visitors_are_sent_to_log_in(client, course, post):
    response = client.post(flag_url(course, "post", post), {"reason": "spam"})
    assert response.status_code == 302
    assert "login" in response["Location"]
    response = client.get(queue_url(course))
    assert response.status_code == 302
    assert "login" in response["Location"]


# -- hidden work: placeholders and notices ---------------------------------------------------


@pytest.fixture
def hidden_post(post, ta):
    moderation_services.hide(user=ta, target=post, reason="Not about the paper.")
    post.refresh_from_db()
    return post


@pytest.fixture
def reply_to_hidden(thread, hidden_post, groupmate):
    return thread_services.post_create(
        user=groupmate, thread=thread, body="A reply that stays.", parent=hidden_post
    )


def test_a_groupmate_sees_a_placeholder_and_the_replies(client, thread, reply_to_hidden, groupmate):
    client.force_login(groupmate)
    text = page(client, thread_url(thread))

    assert "Hidden by a moderator." in text
    assert SECRET not in text
    assert "Not about the paper." not in text
    assert "A reply that stays." in text


def test_the_author_reads_the_hidden_post_and_the_reason(client, thread, hidden_post, author):
    client.force_login(author)
    text = page(client, thread_url(thread))

    assert SECRET in text
    assert "Hidden by a moderator: Not about the paper." in text
    assert ">Restore<" not in text


def test_the_ta_reads_it_and_restores_it_in_place(client, course, thread, hidden_post, ta, groupmate):
    client.force_login(ta)
    text = page(client, thread_url(thread))
    assert SECRET in text
    assert ">Restore<" in text

    response = client.post(
        reverse("moderation:act", args=[course.pk, "post", hidden_post.pk]),
        {"action": "restore", "next": thread_url(thread)},
        follow=True,
    )

    assert "Restored." in response.content.decode()
    hidden_post.refresh_from_db()
    assert hidden_post.moderation == ModerationState.PUBLISHED
    client.force_login(groupmate)
    assert SECRET in page(client, thread_url(thread))


def test_the_ta_hides_a_post_in_place_with_a_reason(client, course, thread, post, ta, groupmate):
    client.force_login(ta)
    hide_url = reverse("moderation:hide", args=[course.pk, "post", post.pk])
    response = client.post(hide_url, {"reason": "", "next": thread_url(thread)}, follow=True)
    assert "Say why it is hidden" in response.content.decode()
    post.refresh_from_db()
    assert post.moderation == ModerationState.PUBLISHED

    client.post(hide_url, {"reason": "Harassment.", "next": thread_url(thread)})

    post.refresh_from_db()
    assert (post.moderation, post.moderation_reason) == (ModerationState.HIDDEN, "Harassment.")
    assert AuditEntry.objects.filter(action="moderation.hide", target_id=str(post.pk)).exists()
    client.force_login(groupmate)
    assert SECRET not in page(client, thread_url(thread))


def test_students_cannot_hide_or_restore(client, course, post, hidden_post, groupmate):
    client.force_login(groupmate)
    assert (
        client.post(
            reverse("moderation:hide", args=[course.pk, "post", post.pk]), {"reason": "x"}
        ).status_code
        == 403
    )
    response = client.post(
        reverse("moderation:act", args=[course.pk, "post", post.pk]), {"action": "restore"}
    )
    assert response.status_code == 403
    post.refresh_from_db()
    assert post.moderation == ModerationState.HIDDEN


def course_note(author, course, paper, body: str):
    """A note shared with the course on the first words of the reading's first paragraph."""
    from annotations.services.annotations import annotation_create

    paragraph = paper.paragraphs.first()
    return annotation_create(
        user=author,
        course=course,
        paragraph=paragraph,
        exact=paragraph.text[:20],
        start=0,
        end=20,
        body=body,
        visibility="course",
    )


def test_a_hidden_note_shows_a_placeholder_to_classmates(client, course, author, groupmate, ta, paper):
    note = course_note(author, course, paper, "My secret note body.")
    moderation_services.hide(user=ta, target=note, reason="Rude.")
    url = reverse("annotate:reading", kwargs={"pk": course.pk})

    client.force_login(groupmate)
    text = page(client, url)
    assert "Hidden by a moderator." in text
    assert "My secret note body." not in text
    client.force_login(author)
    text = page(client, url)
    assert "My secret note body." in text
    assert "Hidden by a moderator: Rude." in text


# -- pending work ------------------------------------------------------------------------------


def test_pending_work_waits_for_approval_then_everyone_sees_it(
    client, course, thread, author, groupmate, ta, instructor
):
    moderation_services.course_set_premoderation(user=instructor, course=course, enabled=True)
    pending = thread_services.post_create(user=author, thread=thread, body="Waiting words.")
    assert pending.moderation == ModerationState.PENDING

    client.force_login(author)
    text = page(client, thread_url(thread))
    assert "Waiting words." in text
    assert "Awaiting approval by the course's staff." in text
    client.force_login(groupmate)
    assert "Waiting words." not in page(client, thread_url(thread))

    client.force_login(ta)
    text = page(client, thread_url(thread))
    assert "Waiting words." in text
    assert ">Approve<" in text
    client.post(
        reverse("moderation:act", args=[course.pk, "post", pending.pk]),
        {"action": "approve", "next": thread_url(thread)},
    )

    client.force_login(groupmate)
    assert "Waiting words." in page(client, thread_url(thread))
    pending.refresh_from_db()
    assert pending.moderation == ModerationState.PUBLISHED


# -- the review queue ---------------------------------------------------------------------------


def make_posts(thread, author, count):
    return [
        thread_services.post_create(user=author, thread=thread, body=f"Post number {n}.")
        for n in range(count)
    ]


def test_the_queue_lists_items_by_flag_count_then_age(
    client, course, thread, author, groupmate, other_group_student, ungrouped_student, ta
):
    first, second, third = make_posts(thread, author, 3)
    with time_machine.travel(dt.datetime(2026, 3, 1, tzinfo=dt.UTC)):
        moderation_services.flag_create(user=groupmate, target=first, reason="spam")
    with time_machine.travel(dt.datetime(2026, 3, 2, tzinfo=dt.UTC)):
        moderation_services.flag_create(user=groupmate, target=second, reason="off_topic")
        moderation_services.flag_create(
            user=ungrouped_student, target=second, reason="other", text="Advert for a shop."
        )
    with time_machine.travel(dt.datetime(2026, 3, 3, tzinfo=dt.UTC)):
        moderation_services.flag_create(user=groupmate, target=third, reason="harassment")

    client.force_login(ta)
    text = page(client, queue_url(course))

    positions = [text.index(f"Post number {n}.") for n in (1, 0, 2)]
    assert positions == sorted(positions)
    assert "ungrouped_student: other — “Advert for a shop.”" in text
    assert "2 (off-topic, other)" in text


def test_the_queue_filters_by_kind_reason_author_status_and_date(
    client, course, thread, author, groupmate, ta
):
    spam, rude = make_posts(thread, author, 2)
    with time_machine.travel(dt.datetime(2026, 3, 1, tzinfo=dt.UTC)):
        moderation_services.flag_create(user=groupmate, target=spam, reason="spam")
    with time_machine.travel(dt.datetime(2026, 3, 5, tzinfo=dt.UTC)):
        moderation_services.flag_create(user=groupmate, target=rude, reason="harassment")
    client.force_login(ta)

    text = page(client, queue_url(course) + "?reason=spam")
    assert "Post number 0." in text
    assert "Post number 1." not in text
    text = page(client, queue_url(course) + "?opened_from=2026-03-03")
    assert "Post number 1." in text
    assert "Post number 0." not in text
    text = page(client, queue_url(course) + "?opened_to=2026-03-02")
    assert "Post number 0." in text
    assert "Post number 1." not in text
    text = page(client, queue_url(course) + "?kind=annotation")
    assert "Post number" not in text
    text = page(client, queue_url(course) + "?author=groupmate")
    assert "Post number" not in text
    text = page(client, queue_url(course) + "?author=author")
    assert "Post number 0." in text
    assert "Post number 1." in text

    act(ta, ModerationItem.objects.get(post=spam), "dismiss")
    assert "Post number 0." not in page(client, queue_url(course))
    assert "Post number 0." in page(client, queue_url(course) + "?status=closed")
    assert "Post number 0." in page(client, queue_url(course) + "?status=all")


def test_bulk_hide_with_a_reason_hides_every_selected_item_and_writes_audit_rows(
    client, course, thread, author, groupmate, ta
):
    posts = make_posts(thread, author, 3)
    for p in posts:
        moderation_services.flag_create(user=groupmate, target=p, reason="spam")
    items = list(ModerationItem.objects.filter(post__in=posts[:2]))
    client.force_login(ta)
    data = {"action": "hide", "reason": "Spam links.", "item": [i.pk for i in items]}
    data.update({f"version_{i.pk}": i.version for i in items})

    response = client.post(queue_url(course), data, follow=True)

    assert "Done for 2 items." in response.content.decode()
    states = dict(Post.objects.filter(pk__in=[p.pk for p in posts]).values_list("pk", "moderation"))
    assert [states[p.pk] for p in posts] == ["hidden", "hidden", "published"]
    assert set(AuditEntry.objects.filter(action="moderation.hide").values_list("target_id", "reason")) == {
        (str(posts[0].pk), "Spam links."),
        (str(posts[1].pk), "Spam links."),
    }


def test_bulk_hide_without_a_reason_is_refused_for_each_item(client, course, thread, author, groupmate, ta):
    (one,) = make_posts(thread, author, 1)
    moderation_services.flag_create(user=groupmate, target=one, reason="spam")
    item = ModerationItem.objects.get(post=one)
    client.force_login(ta)

    response = client.post(
        queue_url(course), {"action": "hide", "item": [item.pk], f"version_{item.pk}": item.version}
    )

    assert response.status_code == 400
    assert "Say why it is hidden" in response.content.decode()
    one.refresh_from_db()
    assert one.moderation == ModerationState.PUBLISHED


def test_a_stale_version_gives_409_and_leaves_that_item_and_the_others_right(
    client, course, thread, author, groupmate, ta, instructor
):
    stale_post, fresh_post = make_posts(thread, author, 2)
    for p in (stale_post, fresh_post):
        moderation_services.flag_create(user=groupmate, target=p, reason="spam")
    stale, fresh = ModerationItem.objects.get(post=stale_post), ModerationItem.objects.get(post=fresh_post)
    seen = {stale.pk: stale.version, fresh.pk: fresh.version}
    # Another moderator dismisses the flags on one item after the TA loaded the queue.
    act(instructor, stale, "dismiss")

    client.force_login(ta)
    data = {"action": "hide", "reason": "Spam.", "item": [stale.pk, fresh.pk]}
    data.update({f"version_{pk}": version for pk, version in seen.items()})
    response = client.post(queue_url(course), data)

    assert response.status_code == 409
    text = response.content.decode()
    assert "Someone else acted on this item first" in text
    assert "published, dealt with, 0 open flags" in text
    stale_post.refresh_from_db()
    fresh_post.refresh_from_db()
    assert (stale_post.moderation, fresh_post.moderation) == ("published", "hidden")
    stale.refresh_from_db()
    assert (stale.status, stale.last_action) == (ItemStatus.CLOSED, "dismiss")


def test_the_queue_runs_the_same_queries_for_2_and_20_items(
    client, course, thread, author, groupmate, other_group_student, ta
):
    client.force_login(ta)

    def flagged(count):
        for p in make_posts(thread, author, count):
            moderation_services.flag_create(user=groupmate, target=p, reason="other", text="Why.")

    flagged(2)
    few = queries_for(client, queue_url(course))
    flagged(18)
    many = queries_for(client, queue_url(course))
    assert many == few
    assert page(client, queue_url(course)).count('name="item"') == 20


def test_the_queue_pages_keep_the_filters_and_lose_no_item(
    client, course, thread, author, groupmate, ungrouped_student, ta, monkeypatch
):
    monkeypatch.setattr(moderation_views, "QUEUE_PAGE_SIZE", 2)
    posts = make_posts(thread, author, 5)
    for n, p in enumerate(posts):
        with time_machine.travel(dt.datetime(2026, 3, 1 + n, tzinfo=dt.UTC)):
            moderation_services.flag_create(user=groupmate, target=p, reason="spam")
    # The oldest is flagged twice, so it heads the queue.
    moderation_services.flag_create(user=ungrouped_student, target=posts[4], reason="spam")
    client.force_login(ta)

    first = page(client, queue_url(course) + "?reason=spam&kind=post")
    second = page(client, queue_url(course) + "?reason=spam&kind=post&page=2")
    third = page(client, queue_url(course) + "?reason=spam&kind=post&page=3")

    assert "5 items (5 open)" in first
    assert "Page 1 of 3" in first
    assert 'href="?reason=spam&amp;kind=post&amp;page=2"' in first
    assert 'href="?reason=spam&amp;kind=post&amp;page=1"' in second
    shown = [
        sorted(
            (n for n in range(5) if f"Post number {n}." in text),
            key=lambda n, t=text: t.index(f"number {n}."),
        )
        for text in (first, second, third)
    ]
    assert shown == [[4, 0], [1, 2], [3]]
    assert [text.count('name="item"') for text in (first, second, third)] == [2, 2, 1]


def test_the_open_count_counts_the_whole_queue_when_every_status_is_shown(
    client, course, thread, author, groupmate, ta, monkeypatch
):
    monkeypatch.setattr(moderation_views, "QUEUE_PAGE_SIZE", 1)
    dealt_with, waiting, also_waiting = make_posts(thread, author, 3)
    for p in (dealt_with, waiting, also_waiting):
        moderation_services.flag_create(user=groupmate, target=p, reason="spam")
    act(ta, ModerationItem.objects.get(post=dealt_with), "dismiss")
    client.force_login(ta)

    assert "3 items (2 open)" in page(client, queue_url(course) + "?status=all")
    assert "1 item (0 open)" in page(client, queue_url(course) + "?status=closed")
    assert "2 items (2 open)" in page(client, queue_url(course))


def test_bulk_acts_on_a_later_page_return_to_that_page(
    client, course, thread, author, groupmate, ta, monkeypatch
):
    monkeypatch.setattr(moderation_views, "QUEUE_PAGE_SIZE", 1)
    posts = make_posts(thread, author, 2)
    for p in posts:
        moderation_services.flag_create(user=groupmate, target=p, reason="spam")
    item = ModerationItem.objects.get(post=posts[1])
    client.force_login(ta)
    url = queue_url(course) + "?status=all&page=2"
    assert "Post number 1." in page(client, url)

    response = client.post(
        url, {"action": "hide", "reason": "Spam.", "item": [item.pk], f"version_{item.pk}": item.version}
    )

    assert response.status_code == 302
    assert response["Location"] == url
    assert list(
        Post.objects.filter(pk__in=[p.pk for p in posts]).values_list("moderation", flat=True).order_by("pk")
    ) == [
        "published",
        "hidden",
    ]


@pytest.mark.parametrize(
    ("who", "status"), [("groupmate", 403), ("author", 403), ("other_course_student", 404), ("outsider", 404)]
)
def test_only_staff_open_the_queue_and_act_on_it(client, course, post, groupmate, request, who, status):
    moderation_services.flag_create(user=groupmate, target=post, reason="spam")
    item = ModerationItem.objects.get()
    client.force_login(request.getfixturevalue(who))

    assert client.get(queue_url(course)).status_code == status
    response = client.post(
        queue_url(course), {"action": "dismiss", "item": [item.pk], f"version_{item.pk}": item.version}
    )
    assert response.status_code == status
    item.refresh_from_db()
    assert item.flag_count == 1


def test_the_course_page_links_staff_to_the_queue_with_the_open_count(client, course, post, groupmate, ta):
    moderation_services.flag_create(user=groupmate, target=post, reason="spam")
    client.force_login(ta)
    assert "Review queue</a> (1 open)" in page(client, course.get_absolute_url())
    client.force_login(groupmate)
    assert "Review queue" not in page(client, course.get_absolute_url())


# -- pre-moderation switches ------------------------------------------------------------------


def test_an_instructor_switches_course_premoderation_on_the_manage_page(client, course, instructor, ta):
    manage = reverse("courses:manage", args=[course.pk])
    url = reverse("moderation:course-premoderation", args=[course.pk])
    client.force_login(instructor)
    assert "Turn pre-moderation on" in page(client, manage)

    client.post(url, {"enabled": "on", "next": manage})
    course.refresh_from_db()
    assert course.premoderation is True
    assert "Turn pre-moderation off" in page(client, manage)
    client.post(url, {"next": manage})
    course.refresh_from_db()
    assert course.premoderation is False
    assert AuditEntry.objects.filter(action="moderation.course_premoderation").count() == 2

    client.force_login(ta)
    assert client.post(url, {"enabled": "on"}).status_code == 403
    course.refresh_from_db()
    assert course.premoderation is False


def test_a_ta_premoderates_one_student_from_the_queue_page(client, course, thread, author, groupmate, ta):
    url = reverse("moderation:member-premoderation", args=[course.pk, author.pk])
    client.force_login(ta)
    assert "Pre-moderate this student's new work" in page(client, queue_url(course))

    client.post(url, {"enabled": "on", "reason": "Repeated spam."})

    assert Membership.objects.get(course=course, user=author).premoderated is True
    assert AuditEntry.objects.get(action="moderation.student_premoderation").reason == "Repeated spam."
    waiting = thread_services.post_create(user=author, thread=thread, body="Held back.")
    assert waiting.moderation == ModerationState.PENDING
    client.post(url, {})
    assert Membership.objects.get(course=course, user=author).premoderated is False

    client.force_login(groupmate)
    assert client.post(url, {"enabled": "on"}).status_code == 403
    assert Membership.objects.get(course=course, user=author).premoderated is False


def test_the_queue_page_lists_pre_moderated_students_and_offers_the_others_in_one_form(
    client, course, author, groupmate, ta
):
    moderation_services.membership_set_premoderated(
        user=ta, membership=Membership.objects.get(course=course, user=author), enabled=True
    )
    client.force_login(ta)
    text = page(client, queue_url(course))

    assert "Stop pre-moderating author" in text
    start = text.index('id="premod-student"')
    options = text[start : text.index("</select>", start)]
    assert f'<option value="{groupmate.pk}">groupmate</option>' in options
    assert f'value="{author.pk}"' not in options
    assert f'value="{ta.pk}"' not in options
    start = text.index('id="students-heading"')
    section = text[start : text.index("</section>", start)]
    assert section.count("<form") == 2  # one switch per pre-moderated student, one choice for the rest


def test_a_ta_premoderates_the_student_chosen_in_the_queue_form(client, course, author, groupmate, ta):
    url = reverse("moderation:student-premoderation", args=[course.pk])
    client.force_login(ta)

    response = client.post(url, {"user_id": author.pk, "enabled": "on", "reason": "Spam."}, follow=True)

    assert "author&#x27;s new work now waits for approval." in response.content.decode()
    assert Membership.objects.get(course=course, user=author).premoderated is True
    assert AuditEntry.objects.get(action="moderation.student_premoderation").reason == "Spam."
    response = client.post(url, {"user_id": "", "enabled": "on"}, follow=True)
    assert "Choose a student." in response.content.decode()
    assert client.post(url, {"user_id": 999999, "enabled": "on"}).status_code == 404

    client.force_login(groupmate)
    assert client.post(url, {"user_id": author.pk}).status_code == 403
    assert Membership.objects.get(course=course, user=author).premoderated is True


# -- challenges and course sources --------------------------------------------------------------


@pytest.fixture
def claim(paper):
    from annotations.models import Claim

    return Claim.objects.filter(paragraph__document=paper).first()


@pytest.fixture
def challenge(course, author, claim):
    from annotations.services.challenges import challenge_create

    return challenge_create(
        user=author,
        course=course,
        claim=claim,
        stance="supports",
        argument="A challenge argument only its readers see.",
    )


def claim_url(course, claim) -> str:
    return reverse("challenges:claim", kwargs={"pk": course.pk, "key": claim.key})


def test_a_challenge_is_flagged_hidden_and_restored_from_its_claim_page(
    client, course, claim, challenge, groupmate, ta
):
    client.force_login(groupmate)
    assert f'action="{flag_url(course, "challenge", challenge)}"' in page(client, claim_url(course, claim))
    client.post(flag_url(course, "challenge", challenge), {"reason": "inappropriate"})
    assert Flag.objects.get().item.challenge == challenge

    client.force_login(ta)
    client.post(
        reverse("moderation:hide", args=[course.pk, "challenge", challenge.pk]), {"reason": "Insulting."}
    )
    text = page(client, claim_url(course, claim))
    assert "A challenge argument only its readers see." in text
    assert "Hidden by a moderator: Insulting." in text
    assert ">Restore<" in text

    client.force_login(groupmate)
    text = page(client, claim_url(course, claim))
    assert "Hidden by a moderator." in text
    assert "A challenge argument only its readers see." not in text


def test_a_course_source_is_flagged_and_hidden_on_the_bibliography(client, course, author, groupmate, ta):
    from annotations.services.sources import source_add

    source, _ = source_add(user=author, course=course, kind="book", title="A dubious pamphlet")
    url = reverse("annotations:course-sources", kwargs={"pk": course.pk})
    client.force_login(groupmate)
    assert f'action="{flag_url(course, "source", source)}"' in page(client, url)
    client.post(flag_url(course, "source", source), {"reason": "spam"})
    assert Flag.objects.get().item.source == source

    client.force_login(ta)
    client.post(reverse("moderation:hide", args=[course.pk, "source", source.pk]), {"reason": "Advert."})
    assert "Hidden by a moderator: Advert." in page(client, url)
    client.force_login(groupmate)
    text = page(client, url)
    assert "Hidden by a moderator." in text
    assert "A dubious pamphlet" not in text


def test_a_pending_course_source_is_not_listed_for_classmates(client, course, author, groupmate, instructor):
    from annotations.services.sources import source_add

    moderation_services.course_set_premoderation(user=instructor, course=course, enabled=True)
    source_add(user=author, course=course, kind="book", title="Awaiting pamphlet")
    url = reverse("annotations:course-sources", kwargs={"pk": course.pk})

    client.force_login(author)
    text = page(client, url)
    assert "Awaiting pamphlet" in text
    assert "Awaiting approval" in text
    client.force_login(groupmate)
    assert "Awaiting pamphlet" not in page(client, url)


def test_the_thread_page_runs_the_same_queries_with_more_hidden_posts(client, thread, author, groupmate, ta):
    client.force_login(groupmate)

    def hidden(count):
        for p in make_posts(thread, author, count):
            moderation_services.hide(user=ta, target=p, reason="No.")

    hidden(2)
    queries_for(client, thread_url(thread))  # the first visit also records that the thread was read
    few = queries_for(client, thread_url(thread))
    hidden(10)
    assert queries_for(client, thread_url(thread)) == few


def test_an_instructor_premoderates_a_student_from_the_member_list(client, course, author, instructor):
    manage = reverse("courses:manage", args=[course.pk])
    url = reverse("moderation:member-premoderation", args=[course.pk, author.pk])
    client.force_login(instructor)
    assert f'action="{url}"' in page(client, manage)

    response = client.post(url, {"enabled": "on", "reason": "", "next": manage}, follow=True)

    assert response.redirect_chain[-1][0] == manage
    assert "author&#x27;s new work now waits for approval." in response.content.decode()
    assert Membership.objects.get(course=course, user=author).premoderated is True
    assert "Stop pre-moderating" in response.content.decode()


def test_staff_cannot_premoderate_a_ta(client, course, ta, instructor):
    client.force_login(instructor)
    response = client.post(
        reverse("moderation:member-premoderation", args=[course.pk, ta.pk]), {"enabled": "on"}, follow=True
    )
    assert "Only students&#x27; work can be pre-moderated." in response.content.decode()
    assert Membership.objects.get(course=course, user=ta).premoderated is False


# -- the queue's lines ----------------------------------------------------------------------------


def queue_line(text: str, work_text: str) -> str:
    """The queue's table line (``<tr>…</tr>``) that shows ``work_text``."""
    start = text.rindex("<tr", 0, text.index(work_text))
    return text[start : text.index("</tr>", start)]


def test_the_queue_shows_every_kind_of_work_with_its_state_in_a_query_per_kind(
    client, course, thread, post, author, groupmate, ungrouped_student, ta, paper, challenge
):
    from annotations.services.sources import source_add

    note = course_note(author, course, paper, "A   note\nflagged   for its words.")
    source, _ = source_add(user=author, course=course, kind="book", title="A flagged pamphlet")
    client.force_login(ta)
    for work in (post, challenge):
        moderation_services.flag_create(user=groupmate, target=work, reason="spam")
    one_kind = queries_for(client, queue_url(course) + "?status=all&kind=post")
    for work in (note, source):
        moderation_services.flag_create(user=groupmate, target=work, reason="off_topic")
    moderation_services.flag_create(
        user=ungrouped_student, target=note, reason="other", text="Off <b>topic</b>."
    )
    moderation_services.hide(user=ta, target=post, reason="Spam.")

    text = page(client, queue_url(course) + "?status=all")
    lines = {
        kind: queue_line(text, shown)
        for kind, shown in (
            ("annotation", "A note flagged for its words."),  # the excerpt is on one line
            ("post", SECRET),
            ("challenge", "A challenge argument only its readers see."),
            ("source", "A flagged pamphlet"),
        )
    }
    assert "<td>hidden by a moderator</td>" in lines["post"]
    assert "hide by ta" in lines["post"]
    for kind in ("annotation", "challenge", "source"):
        assert f"<td>{kind}</td>" in lines[kind]
        assert "<td>published</td>" in lines[kind]
        assert "<td>author</td>" in lines[kind]
    assert "2 (off-topic, other)" in lines["annotation"]
    assert 'groupmate: off-topic <span class="meta">(open)</span>' in lines["annotation"]
    assert "ungrouped_student: other — “Off &lt;b&gt;topic&lt;/b&gt;.”" in lines["annotation"]
    # The four kinds of work cost a query each, the flags one for all of them.
    assert queries_for(client, queue_url(course) + "?status=all") == one_kind + 3


def test_a_queue_line_shows_a_new_flag_and_a_staff_act_at_once(
    client, course, post, author, groupmate, ungrouped_student, ta
):
    moderation_services.flag_create(user=groupmate, target=post, reason="spam")
    client.force_login(ta)
    before = queue_line(page(client, queue_url(course)), SECRET)
    assert "1 (spam)" in before
    assert "<td>published</td>" in before

    moderation_services.flag_create(user=ungrouped_student, target=post, reason="harassment")
    line = queue_line(page(client, queue_url(course)), SECRET)
    assert "2 (harassment, spam)" in line
    assert "ungrouped_student: harassment" in line

    moderation_services.hide(user=ta, target=post, reason="Rude.")
    line = queue_line(page(client, queue_url(course) + "?status=all"), SECRET)
    assert "<td>hidden by a moderator</td>" in line
    assert "hide by ta" in line
    item = ModerationItem.objects.get(post=post)
    assert f'name="version_{item.pk}" value="{item.version}"' in line
