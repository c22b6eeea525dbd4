"""Pages for reading the paper and exploring its claims and sources."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from annotations import permissions, selectors
from annotations.api.filters import ClaimFilter
from annotations.highlight import blocks_by_section, paragraph_html
from annotations.models import Claim, Document

CLAIMS_PER_PAGE = 25


HOME_COURSES = 5


def home(request: HttpRequest) -> HttpResponse:
    """What the platform is, and where a student and an instructor start; a signed-in user's
    first few courses (one more is fetched to know whether to say there are others)."""
    documents = list(selectors.document_list())
    context = {"nav": "home", "documents": documents}
    if request.user.is_authenticated:
        courses = list(selectors.courses_with_my_membership(request.user)[: HOME_COURSES + 1])
        context |= {
            "my_courses": courses[:HOME_COURSES],
            "more_courses": len(courses) > HOME_COURSES,
            "can_create": permissions.can_create_course(request.user),
        }
    return render(request, "annotations/home.html", context)


def reading_default(request: HttpRequest) -> HttpResponse:
    document = Document.objects.order_by("pk").first()
    if document is None:
        return render(request, "annotations/empty.html", status=404)
    return redirect(document)


def reading(request: HttpRequest, slug: str) -> HttpResponse:
    document = selectors.document_for_reading(slug)
    sections = list(document.sections.all())
    paragraphs = list(document.paragraphs.all())
    blocks = blocks_by_section(
        sections,
        paragraphs,
        lambda paragraph: {
            "paragraph": paragraph,
            "html": paragraph_html(paragraph.text, list(paragraph.claims.all())),
        },
    )
    claim_count = sum(len(paragraph.claims.all()) for paragraph in paragraphs)
    return render(
        request,
        "annotations/reading.html",
        {
            "nav": "read",
            "document": document,
            "blocks": blocks,
            "sections": sections,
            "claim_count": claim_count,
            # Where a signed-in reader can annotate this reading.
            "my_courses": list(selectors.courses_for_user(request.user).filter(reading=document)),
        },
    )


def claim_list(request: HttpRequest) -> HttpResponse:
    filterset = ClaimFilter(request.GET or None, queryset=selectors.claim_list())
    status = 200
    if filterset.is_bound and not filterset.is_valid():
        queryset, status = Claim.objects.none(), 400
    else:
        queryset = filterset.qs
    page = Paginator(queryset, CLAIMS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "annotations/claim_list.html",
        {
            "nav": "claims",
            "filter": filterset,
            "page": page,
            "query": query.urlencode(),
        },
        status=status,
    )


def claim_detail(request: HttpRequest, key: str) -> HttpResponse:
    claim = selectors.claim_detail(key)
    paragraph = claim.paragraph
    before, after = paragraph.text[: claim.start], paragraph.text[claim.end :]
    return render(
        request,
        "annotations/claim_detail.html",
        {
            "nav": "claims",
            "claim": claim,
            "before": before,
            "after": after,
            "links": claim.event_links.all(),
        },
    )


def source_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "annotations/source_list.html",
        # The reading's own sources; a course's are on its sources page.
        {"nav": "sources", "sources": selectors.source_list(request.user).filter(course__isnull=True)},
    )
