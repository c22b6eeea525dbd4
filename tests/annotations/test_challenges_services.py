"""Challenge services: filing, the thread, resolving with a version check, errata, and the
evidence status a course's challenges give a claim."""

from __future__ import annotations

import threading

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from annotations.models import Claim, Source
from annotations.models.annotation import Visibility
from annotations.models.challenges import Challenge, ChallengeStatus, Erratum, EvidenceStatus, Stance
from annotations.services import challenges as services
from annotations.services import reading_load
from annotations.services.sources import source_add

pytestmark = pytest.mark.django_db


@pytest.fixture
def claim(paper) -> Claim:
    return Claim.objects.filter(paragraph__document=paper).order_by("key").first()


@pytest.fixture
def second_claim(paper, claim) -> Claim:
    return Claim.objects.filter(paragraph__document=paper).exclude(pk=claim.pk).order_by("key").first()


@pytest.fixture
def source() -> Source:
    return Source.objects.filter(course__isnull=True).order_by("key").first()


def file(user, course, claim, *, stance=Stance.DISPUTES, sources=(), visibility=Visibility.COURSE, **kw):
    return services.challenge_create(
        user=user,
        course=course,
        claim=claim,
        stance=stance,
        argument=kw.get("argument", "The record says *otherwise*."),
        citations=[{"source": s, "page": "12", "quote": "a passage", "url_fragment": "#s3"} for s in sources],
        visibility=visibility,
    )


def test_it_files_a_challenge_with_its_citations_and_pinpoints(course, author, claim, source):
    challenge = file(author, course, claim, sources=[source])

    challenge.refresh_from_db()
    assert challenge.status == ChallengeStatus.OPEN
    assert challenge.version == 1
    assert "<em>otherwise</em>" in challenge.argument_html
    assert list(challenge.citations.values_list("source__key", "page", "quote", "url_fragment")) == [
        (source.key, "12", "a passage", "#s3")
    ]


@pytest.mark.parametrize("stance", [Stance.DISPUTES, Stance.QUALIFIES])
def test_it_refuses_a_dispute_or_qualification_without_a_source(course, author, claim, stance):
    with pytest.raises(ValidationError) as error:
        file(author, course, claim, stance=stance)

    assert error.value.message_dict == {"citations": [services.NEEDS_SOURCE]}
    assert not Challenge.objects.exists()


@pytest.mark.parametrize("stance", [Stance.SUPPORTS, Stance.NEEDS_CONTEXT])
def test_it_accepts_support_or_a_call_for_context_without_a_source(course, author, claim, stance):
    assert file(author, course, claim, stance=stance).citations.count() == 0


def test_it_refuses_a_source_of_another_course(course, other_course, author, other_course_student, claim):
    foreign, _ = source_add(
        user=other_course_student, course=other_course, kind=Source.Kind.BOOK, authors=["Li, Wei"],
        year=2010, title="A book of another course",
    )  # fmt: skip

    with pytest.raises(ValidationError) as error:
        file(author, course, claim, sources=[foreign])

    assert error.value.message_dict == {"citations": [services.UNKNOWN_SOURCE]}


def test_it_accepts_a_source_of_the_course(course, author, groupmate, claim):
    own, _ = source_add(
        user=groupmate, course=course, kind=Source.Kind.BOOK, authors=["Li, Wei"], year=2010, title="Ours"
    )
    assert [c.source for c in file(author, course, claim, sources=[own]).citations.all()] == [own]


def test_it_refuses_non_members_and_claims_of_another_reading(course, outsider, claim, source):
    with pytest.raises(PermissionDenied):
        file(outsider, course, claim, sources=[source])


def test_group_visibility_needs_a_group(course, ungrouped_student, claim, source):
    with pytest.raises(ValidationError) as error:
        file(ungrouped_student, course, claim, sources=[source], visibility=Visibility.GROUP)
    assert "visibility" in error.value.message_dict


def test_only_the_author_edits_and_deletes(course, author, groupmate, claim, source):
    challenge = file(author, course, claim, sources=[source])
    with pytest.raises(PermissionDenied):
        services.challenge_update(user=groupmate, challenge=challenge, argument="Mine now")
    with pytest.raises(PermissionDenied):
        services.challenge_delete(user=groupmate, challenge=challenge)

    services.challenge_update(user=author, challenge=challenge, argument="Better argument")
    services.challenge_delete(user=author, challenge=challenge)

    challenge.refresh_from_db()
    assert challenge.argument == "Better argument"
    assert challenge.edited_at is not None
    assert challenge.deleted_at is not None


def test_the_thread_takes_responses_that_their_authors_edit_and_delete(
    course, author, groupmate, other_group_student, claim, source
):
    challenge = file(author, course, claim, sources=[source], visibility=Visibility.GROUP)
    response = services.challenge_respond(user=groupmate, challenge=challenge, body="Agreed")
    with pytest.raises(PermissionDenied):
        services.challenge_respond(user=other_group_student, challenge=challenge, body="Let me in")
    with pytest.raises(PermissionDenied):
        services.response_update(user=author, response=response, body="Not yours")

    services.response_update(user=groupmate, response=response, body="Agreed, **strongly**")
    services.response_delete(user=groupmate, response=response)

    response.refresh_from_db()
    assert "<strong>strongly</strong>" in response.body_html
    assert response.deleted_at is not None


# -- resolving --------------------------------------------------------------------------


@pytest.mark.parametrize("user", ["author", "groupmate", "other_instructor", "outsider"])
def test_students_and_strangers_cannot_resolve(request, course, author, claim, source, user):
    challenge = file(author, course, claim, sources=[source])
    with pytest.raises(PermissionDenied):
        services.challenge_resolve(
            user=request.getfixturevalue(user), challenge=challenge, status=ChallengeStatus.UPHELD,
            expected_version=1,
        )  # fmt: skip


@pytest.mark.parametrize("user", ["ta", "instructor", "curator"])
def test_staff_resolve_and_reopen(request, course, author, claim, source, user):
    staff = request.getfixturevalue(user)
    challenge = file(author, course, claim, sources=[source])

    resolved = services.challenge_resolve(
        user=staff, challenge=challenge, status=ChallengeStatus.PARTLY_UPHELD, feedback="Fair *point*",
        expected_version=1,
    )  # fmt: skip
    assert (resolved.status, resolved.version, resolved.resolved_by) == ("partly_upheld", 2, staff)
    assert "<em>point</em>" in resolved.feedback_html
    assert resolved.resolved_at is not None

    reopened = services.challenge_reopen(user=staff, challenge=challenge, expected_version=2)
    assert (reopened.status, reopened.version, reopened.resolved_at) == ("open", 3, None)


def test_a_second_resolution_on_the_same_version_is_a_conflict_with_the_current_state(
    course, author, ta, instructor, claim, source
):
    challenge = file(author, course, claim, sources=[source])
    services.challenge_resolve(
        user=ta, challenge=challenge, status="upheld", feedback="Yes", expected_version=1
    )

    with pytest.raises(services.Conflict) as conflict:
        services.challenge_resolve(
            user=instructor, challenge=challenge, status="rejected", feedback="No", expected_version=1
        )

    assert (conflict.value.current.status, conflict.value.current.version) == ("upheld", 2)
    challenge.refresh_from_db()
    assert (challenge.status, challenge.feedback, challenge.resolved_by, challenge.version) == (
        "upheld",
        "Yes",
        ta,
        2,
    )


def test_reopening_a_stale_version_is_a_conflict(course, author, ta, claim, source):
    challenge = file(author, course, claim, sources=[source])
    services.challenge_resolve(user=ta, challenge=challenge, status="rejected", expected_version=1)
    with pytest.raises(services.Conflict):
        services.challenge_reopen(user=ta, challenge=challenge, expected_version=1)


def test_open_is_not_a_resolution(course, author, ta, claim, source):
    challenge = file(author, course, claim, sources=[source])
    with pytest.raises(ValidationError):
        services.challenge_resolve(user=ta, challenge=challenge, status="open", expected_version=1)


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="SQLite serialises writers itself and has no SELECT … FOR UPDATE; run with DATABASE_URL=postgres://…",
)
@pytest.mark.django_db(transaction=True)
def test_twenty_staff_resolving_at_once_make_exactly_one_resolution():
    from annotations.models.courses import Role
    from tests.factories import CourseFactory, MembershipFactory, UserFactory

    reading_load(path=settings.DEFAULT_READING_DIR)
    paper = Claim.objects.order_by("key").first().paragraph.document
    course = CourseFactory(title="Race", reading=paper)
    student = UserFactory(username="racer")
    MembershipFactory(course=course, user=student, role=Role.STUDENT)
    staff = []
    for n in range(20):
        user = UserFactory(username=f"ta{n}")
        MembershipFactory(course=course, user=user, role=Role.TA)
        staff.append(user)
    claim = Claim.objects.filter(paragraph__document=paper).order_by("key").first()
    challenge = file(student, course, claim, stance=Stance.SUPPORTS)
    barrier = threading.Barrier(len(staff))
    outcomes: list[str] = []
    lock = threading.Lock()

    def resolve(user) -> None:
        try:
            mine = Challenge.objects.get(pk=challenge.pk)
            barrier.wait()
            try:
                services.challenge_resolve(
                    user=user, challenge=mine, status="upheld", feedback=user.username, expected_version=1
                )
                outcome = "ok"
            except services.Conflict:
                outcome = "conflict"
            with lock:
                outcomes.append(outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=resolve, args=(user,)) for user in staff]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["conflict"] * 19 + ["ok"]
    challenge.refresh_from_db()
    assert challenge.version == 2
    assert challenge.status == "upheld"
    assert challenge.resolved_by.username == challenge.feedback


# -- errata -----------------------------------------------------------------------------


def test_only_site_staff_confirm_an_erratum(instructor, curator, claim):
    with pytest.raises(PermissionDenied):
        services.erratum_confirm(user=instructor, claim=claim, text="The date is 2001.")

    erratum = services.erratum_confirm(user=curator, claim=claim, text="The date is 2001.")

    assert Erratum.objects.get(claim=claim) == erratum
    assert erratum.confirmed_by == curator
    with pytest.raises(ValidationError):
        services.erratum_confirm(user=curator, claim=claim, text="Again")


# -- evidence status --------------------------------------------------------------------


def status_of(course, claim) -> str:
    """The claim's status, the same whether the reasons are fetched or only counted."""
    status = services.evidence_for(course, [claim])[claim.pk].status
    assert services.evidence_for(course, [claim], reasons=False)[claim.pk].status == status
    return status


def test_an_unchallenged_claim(course, claim):
    assert services.evidence_for(course, [claim])[claim.pk] == services.Evidence(EvidenceStatus.UNCHALLENGED)


@pytest.mark.parametrize("stance", [Stance.DISPUTES, Stance.QUALIFIES, Stance.NEEDS_CONTEXT])
def test_an_open_challenge_against_a_claim_makes_it_contested(course, author, claim, source, stance):
    challenge = file(author, course, claim, stance=stance, sources=[source])
    evidence = services.evidence_for(course, [claim])[claim.pk]
    assert evidence.status == EvidenceStatus.CONTESTED
    assert list(evidence.reasons) == [challenge]


def test_an_open_support_leaves_it_unchallenged(course, author, claim):
    file(author, course, claim, stance=Stance.SUPPORTS)
    assert status_of(course, claim) == EvidenceStatus.UNCHALLENGED


@pytest.mark.parametrize("status", [ChallengeStatus.UPHELD, ChallengeStatus.PARTLY_UPHELD])
def test_an_upheld_dispute_makes_it_disputed(course, author, ta, claim, source, status):
    challenge = file(author, course, claim, sources=[source])
    services.challenge_resolve(user=ta, challenge=challenge, status=status, expected_version=1)
    assert status_of(course, claim) == EvidenceStatus.DISPUTED


def test_a_rejected_dispute_counts_for_nothing(course, author, ta, claim, source):
    challenge = file(author, course, claim, sources=[source])
    services.challenge_resolve(user=ta, challenge=challenge, status="rejected", expected_version=1)
    assert status_of(course, claim) == EvidenceStatus.UNCHALLENGED


def test_an_upheld_support_makes_it_supported_even_with_an_open_dispute(
    course, author, groupmate, ta, claim, source
):
    support = file(author, course, claim, stance=Stance.SUPPORTS)
    file(groupmate, course, claim, sources=[source])
    services.challenge_resolve(user=ta, challenge=support, status="upheld", expected_version=1)
    assert status_of(course, claim) == EvidenceStatus.SUPPORTED


def test_an_upheld_dispute_outweighs_an_upheld_support(course, author, groupmate, ta, claim, source):
    support = file(author, course, claim, stance=Stance.SUPPORTS)
    dispute = file(groupmate, course, claim, sources=[source])
    services.challenge_resolve(user=ta, challenge=support, status="upheld", expected_version=1)
    services.challenge_resolve(user=ta, challenge=dispute, status="upheld", expected_version=1)
    assert status_of(course, claim) == EvidenceStatus.DISPUTED


def test_an_erratum_makes_it_corrected_in_every_course(
    course, other_course, author, ta, curator, claim, source
):
    dispute = file(author, course, claim, sources=[source])
    services.challenge_resolve(user=ta, challenge=dispute, status="upheld", expected_version=1)
    erratum = services.erratum_confirm(user=curator, claim=claim, text="Fixed.", challenge=dispute)

    for each in (course, other_course):
        evidence = services.evidence_for(each, [claim])[claim.pk]
        assert evidence.status == EvidenceStatus.CORRECTED
        assert list(evidence.reasons) == [erratum]


@pytest.mark.parametrize("visibility", [Visibility.GROUP, Visibility.PRIVATE])
def test_group_and_private_challenges_do_not_change_what_the_course_sees(
    course, author, ta, claim, source, visibility
):
    challenge = file(author, course, claim, sources=[source], visibility=visibility)
    assert status_of(course, claim) == EvidenceStatus.UNCHALLENGED
    if visibility == Visibility.GROUP:
        services.challenge_resolve(user=ta, challenge=challenge, status="upheld", expected_version=1)
        assert status_of(course, claim) == EvidenceStatus.UNCHALLENGED


def test_deleted_challenges_and_other_courses_challenges_do_not_count(
    course, other_course, author, other_course_student, claim, source
):
    services.challenge_delete(user=author, challenge=file(author, course, claim, sources=[source]))
    file(other_course_student, other_course, claim, sources=[source])
    assert status_of(course, claim) == EvidenceStatus.UNCHALLENGED
    assert status_of(other_course, claim) == EvidenceStatus.CONTESTED


def test_evidence_for_many_claims_takes_two_queries(
    course, author, claim, second_claim, source, django_assert_num_queries
):
    file(author, course, claim, sources=[source])
    claims = list(Claim.objects.filter(paragraph__document=course.reading))
    for reasons in (True, False):
        with django_assert_num_queries(2):
            evidence = services.evidence_for(course, claims, reasons=reasons)
        assert evidence[claim.pk].status == EvidenceStatus.CONTESTED
        assert evidence[second_claim.pk].status == EvidenceStatus.UNCHALLENGED
        assert len(evidence) == len(claims)


def test_the_reasons_are_the_challenges_behind_the_winning_status_oldest_first(
    course, author, groupmate, ta, claim, source
):
    first = file(author, course, claim, sources=[source])
    second = file(groupmate, course, claim, stance=Stance.QUALIFIES, sources=[source])
    open_one = file(author, course, claim, stance=Stance.NEEDS_CONTEXT)
    services.challenge_resolve(user=ta, challenge=second, status="partly_upheld", expected_version=1)
    services.challenge_resolve(user=ta, challenge=first, status="upheld", expected_version=1)

    evidence = services.evidence_for(course, [claim])[claim.pk]
    assert evidence.status == EvidenceStatus.DISPUTED
    assert list(evidence.reasons) == [first, second]
    assert open_one not in evidence.reasons
    assert services.evidence_for(course, [claim], reasons=False)[claim.pk] == services.Evidence(
        EvidenceStatus.DISPUTED
    )


def test_the_write_itself_refuses_a_version_that_moved_on(course, author, ta, claim, source):
    """Without a row lock (SQLite), the conditional write is what stops a second writer."""
    challenge = file(author, course, claim, sources=[source])
    Challenge.objects.filter(pk=challenge.pk).update(version=2)
    challenge.status, challenge.resolved_at = ChallengeStatus.UPHELD, challenge.created_at

    with pytest.raises(services.Conflict) as conflict:
        services._save_if_current(challenge, 1, ["status", "resolved_at"])

    assert conflict.value.current.version == 2
    assert Challenge.objects.get(pk=challenge.pk).status == ChallengeStatus.OPEN
