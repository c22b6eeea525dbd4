"""Who may do what: one small function per rule, one condition per line.

Site staff are superusers: they curate the records and may see and moderate every course
(but never another person's private annotation). Everyone else acts through their
membership of a course.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from annotations.models import Annotation, AnnotationReply, Course, Membership
from annotations.models.annotation import Visibility
from annotations.models.challenges import LinkProposal, ProposalStatus
from annotations.models.courses import Role
from annotations.models.moderated import ModerationState

User = AbstractBaseUser | AnonymousUser


def membership_of(user: User, course: Course | int) -> Membership | None:
    """The user's membership of the course, remembered on the user object for the request."""
    if not user.is_authenticated:
        return None
    course_id = course if isinstance(course, int) else course.pk
    cache = user.__dict__.setdefault("_memberships", {})
    if course_id not in cache:
        # With its group: pages that say whose group the reader is in show its name.
        cache[course_id] = (
            Membership.objects.filter(user=user, course_id=course_id).select_related("group").first()
        )
    return cache[course_id]


def is_site_staff(user: User) -> bool:
    return user.is_authenticated and user.is_superuser


def can_create_course(user: User) -> bool:
    return user.is_authenticated and user.has_perm("annotations.add_course")


def can_anonymise_user(user: User) -> bool:
    """Anonymising an account on its owner's request is site staff's act."""
    return is_site_staff(user)


def can_view_course(user: User, course: Course) -> bool:
    if is_site_staff(user):
        return True
    return membership_of(user, course) is not None


def can_teach(user: User, course: Course | int) -> bool:
    """TAs and instructors: see the course's shared work, moderate and grade there."""
    if is_site_staff(user):
        return True
    membership = membership_of(user, course)
    return membership is not None and membership.role in (Role.TA, Role.INSTRUCTOR)


def can_manage_course(user: User, course: Course) -> bool:
    """Instructors: codes, members and groups."""
    if is_site_staff(user):
        return True
    membership = membership_of(user, course)
    return membership is not None and membership.role == Role.INSTRUCTOR


def can_annotate(user: User, course: Course) -> bool:
    return membership_of(user, course) is not None


def can_add_source(user: User, course: Course) -> bool:
    """Members add sources to their course (site staff curate the reading's in the admin)."""
    return membership_of(user, course) is not None


def can_view_annotation(user: User, annotation: Annotation) -> bool:
    """The visibility rule for one annotation (``visible_annotations`` is the same rule as a query)."""
    return _can_view_course_work(user, annotation)


def _can_view_course_work(user: User, work) -> bool:
    """The visibility rule for one piece of student work with a course, an author, a
    visibility, a group and a moderation state (an annotation or a challenge)."""
    if not user.is_authenticated:
        return False
    if work.author_id == user.pk:
        return membership_of(user, work.course_id) is not None or is_site_staff(user)
    if work.visibility == Visibility.PRIVATE:
        return False
    if is_site_staff(user):
        return True
    membership = membership_of(user, work.course_id)
    if membership is None:
        return False
    if membership.role in (Role.TA, Role.INSTRUCTOR):
        return True
    if work.moderation != ModerationState.PUBLISHED:
        return False
    if work.visibility == Visibility.COURSE:
        return True
    return membership.group_id is not None and membership.group_id == work.group_id


def can_change_annotation(user: User, annotation: Annotation) -> bool:
    """Editing and deleting are the author's, while the annotation is not deleted."""
    return user.is_authenticated and annotation.author_id == user.pk and annotation.deleted_at is None


def can_reply(user: User, annotation: Annotation) -> bool:
    return (
        annotation.deleted_at is None
        and can_view_annotation(user, annotation)
        and membership_of(user, annotation.course_id) is not None
    )


def can_change_reply(user: User, reply: AnnotationReply) -> bool:
    return user.is_authenticated and reply.author_id == user.pk and reply.deleted_at is None


def remember_membership(user: User, course_id: int, membership: Membership | None) -> None:
    """Tell ``membership_of`` what a list has already read, so checking each row asks nothing more."""
    if user.is_authenticated:
        user.__dict__.setdefault("_memberships", {})[course_id] = membership


def can_decide_proposals(user: User, course: Course) -> bool:
    """TAs, instructors and site staff accept or decline link and event proposals."""
    return can_teach(user, course)


def can_withdraw_link(user: User, proposal: LinkProposal) -> bool:
    """The proposer withdraws a link proposal while it is still proposed."""
    return (
        user.is_authenticated
        and proposal.proposer_id == user.pk
        and proposal.status == ProposalStatus.PROPOSED
    )


# -- challenges --------------------------------------------------------------------------


def can_view_challenge(user: User, challenge) -> bool:
    """The annotations' visibility rule for one challenge (``visible_challenges`` as a query)."""
    return _can_view_course_work(user, challenge)


def can_change_challenge(user: User, challenge) -> bool:
    """Editing and deleting are the author's, while the challenge is not deleted."""
    return user.is_authenticated and challenge.author_id == user.pk and challenge.deleted_at is None


def can_respond_to_challenge(user: User, challenge) -> bool:
    return (
        challenge.deleted_at is None
        and can_view_challenge(user, challenge)
        and membership_of(user, challenge.course_id) is not None
    )


def can_change_challenge_response(user: User, response) -> bool:
    return user.is_authenticated and response.author_id == user.pk and response.deleted_at is None


def can_resolve_challenge(user: User, challenge) -> bool:
    """The course's TAs and instructors, and site staff, resolve and reopen challenges."""
    return challenge.deleted_at is None and can_teach(user, challenge.course)


def can_confirm_erratum(user: User) -> bool:
    return is_site_staff(user)


def can_view_thread(user: User, thread) -> bool:
    """The thread's group and the course's staff, or every member for a course thread."""
    if is_site_staff(user):
        return True
    membership = membership_of(user, thread.course_id)
    if membership is None:
        return False
    if thread.group_id is None:
        return True
    if membership.role in (Role.TA, Role.INSTRUCTOR):
        return True
    return membership.group_id == thread.group_id


def can_moderate_thread(user: User, thread) -> bool:
    """Pin, lock and move: the course's TAs and instructors, and site staff."""
    return can_teach(user, thread.course)


def can_change_post(user: User, post) -> bool:
    return user.is_authenticated and post.author_id == user.pk and post.deleted_at is None


def can_set_assignments(user: User, course: Course) -> bool:
    """Instructors set, change, delete assignments and release their grades."""
    return can_manage_course(user, course)


def can_grade(user: User, course: Course) -> bool:
    """TAs and instructors see the class's progress, grade, grant extensions and export."""
    return can_teach(user, course)


def can_see_own_grade(user: User, assignment) -> bool:
    """A student of the course sees their grade and feedback once the grades are released."""
    if assignment.grades_released_at is None:
        return False
    membership = membership_of(user, assignment.course_id)
    return membership is not None and membership.role == Role.STUDENT


def can_see_author(user: User, work) -> bool:
    """Who wrote an annotation or a challenge made for an anonymous assignment is hidden
    from classmates; its author and the course's staff still see it."""
    if not work.anonymous_to_peers:
        return True
    if user.is_authenticated and work.author_id == user.pk:
        return True
    return can_teach(user, work.course_id)


# -- moderation ------------------------------------------------------------------------------


def can_moderate(user: User, course: Course | int) -> bool:
    """Flags, the review queue, hiding and restoring: the course's TAs and instructors, site staff."""
    return can_teach(user, course)


def can_read_moderated(user: User, work) -> bool:
    """Hidden or waiting work is read in full by its author and the course's staff; others
    see a placeholder where it keeps replies in place (or nothing)."""
    if work.moderation == ModerationState.PUBLISHED:
        return True
    author_id = work.added_by_id if hasattr(work, "added_by_id") else work.author_id
    if user.is_authenticated and author_id == user.pk:
        return True
    course_id = work.thread.course_id if hasattr(work, "thread_id") else work.course_id
    return course_id is not None and can_teach(user, course_id)


def can_view_work(user: User, work) -> bool:
    """Whether ``user`` may see a piece of course work (an annotation, a challenge, a post or a
    course's source), its moderation state included."""
    from annotations.models import Annotation, Post, Source

    if isinstance(work, Annotation):
        return can_view_annotation(user, work)
    if isinstance(work, Post):
        return can_view_thread(user, work.thread) and (
            work.moderation != ModerationState.PENDING or can_read_moderated(user, work)
        )
    if isinstance(work, Source):
        if work.course_id is None:
            return True
        return (can_view_course(user, work.course) if user.is_authenticated else False) and (
            work.moderation == ModerationState.PUBLISHED or can_read_moderated(user, work)
        )
    return can_view_challenge(user, work)
