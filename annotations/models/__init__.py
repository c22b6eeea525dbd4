"""The annotations app's models, one module per concept."""

from annotations.models.annotation import Annotation, AnnotationReply, Tag
from annotations.models.assignments import Assignment, Extension, Grade
from annotations.models.challenges import (
    Challenge,
    ChallengeResponse,
    ChallengeSource,
    Erratum,
    EventProposal,
    LinkProposal,
)
from annotations.models.courses import Course, CourseGroup, Membership
from annotations.models.discussion import (
    LanguagePreference,
    Notification,
    NotificationPreference,
    Post,
    PostRevision,
    Reaction,
    Thread,
    ThreadVisit,
)
from annotations.models.moderated import ModerationState
from annotations.models.moderation import AuditEntry, Flag, ModerationItem
from annotations.models.reading import Claim, ClaimEventLink, Document, Paragraph, Section, Source

__all__ = [
    "Annotation",
    "AnnotationReply",
    "Assignment",
    "AuditEntry",
    "Challenge",
    "ChallengeResponse",
    "ChallengeSource",
    "Claim",
    "ClaimEventLink",
    "Course",
    "CourseGroup",
    "Document",
    "Erratum",
    "EventProposal",
    "Extension",
    "Flag",
    "Grade",
    "LanguagePreference",
    "LinkProposal",
    "Membership",
    "ModerationItem",
    "ModerationState",
    "Notification",
    "NotificationPreference",
    "Paragraph",
    "Post",
    "PostRevision",
    "Reaction",
    "Section",
    "Source",
    "Tag",
    "Thread",
    "ThreadVisit",
]
