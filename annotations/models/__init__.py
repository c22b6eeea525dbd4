"""The annotations app's models, one module per concept."""

from annotations.models.annotation import Annotation, AnnotationReply, Tag
from annotations.models.courses import Course, CourseGroup, Membership
from annotations.models.reading import Claim, ClaimEventLink, Document, Paragraph, Section, Source

__all__ = [
    "Annotation",
    "AnnotationReply",
    "Claim",
    "ClaimEventLink",
    "Course",
    "CourseGroup",
    "Document",
    "Membership",
    "Paragraph",
    "Section",
    "Source",
    "Tag",
]
