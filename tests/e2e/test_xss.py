"""Every field people write, filled with a corpus of XSS payloads through the real services,
then shown in Chromium to the people who read it: nothing runs, nothing active is left in
the page, and the harmless words written beside each payload are still there to read.

The pages are loaded with their Content-Security-Policy bypassed, so what is proved here is
the escaping and the sanitising; the policy is a second wall, not the one tested.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import cycle, islice
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from annotations.models import (
    Annotation,
    Challenge,
    Claim,
    Course,
    CourseGroup,
    Membership,
    Paragraph,
    Post,
    Source,
)
from annotations.models.challenges import ChallengeStatus, Stance
from annotations.services import annotations as annotation_services
from annotations.services import assignments as assignment_services
from annotations.services import challenges as challenge_services
from annotations.services import courses as course_services
from annotations.services import links as link_services
from annotations.services import moderation as moderation_services
from annotations.services import reading_load
from annotations.services import sources as source_services
from annotations.services import threads as thread_services
from annotations.views.annotate import NOTES_PER_PARAGRAPH
from annotations.views.threads import POSTS_PER_PAGE
from tests.e2e.xss_payloads import PAYLOADS, Payload, short
from timeline.models import Event

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Installed before any script of the page: a payload that runs records its number here.
RECORDER = "window.__hits = []; window.__xss = id => window.__hits.push(id);"

# What the rendered DOM must not hold: event-handler attributes, script URLs, inline or
# foreign scripts, frames, plugins, <base> and refreshing <meta>, script-bearing styles.
AUDIT = r"""
() => {
  const found = [];
  const urlAttributes = new Set(["href", "src", "action", "formaction", "data", "xlink:href",
    "background", "poster", "codebase", "srcset", "lowsrc", "dynsrc", "ping", "cite"]);
  const describe = (el, name, value) => `<${el.tagName.toLowerCase()} ${name}="${value.slice(0, 80)}">`;
  for (const el of document.querySelectorAll("*")) {
    for (const attribute of el.attributes) {
      const name = attribute.name.toLowerCase();
      const value = attribute.value.replace(/[\u0000-\u0020\u007f-\u00a0]/g, "").toLowerCase();
      if (name.startsWith("on")) found.push("handler " + describe(el, name, attribute.value));
      if (name === "srcdoc") found.push("srcdoc " + describe(el, name, attribute.value));
      if (urlAttributes.has(name) && /^(javascript|vbscript|livescript):|^data:text\/html/.test(value)) {
        found.push("script URL " + describe(el, name, attribute.value));
      }
      if (name === "style" && /expression\(|javascript:|behavior:|-moz-binding/.test(value)) {
        found.push("style " + describe(el, name, attribute.value));
      }
    }
  }
  const active = "iframe, frame, object, embed, applet, base, meta[http-equiv=refresh i], meta[http-equiv=set-cookie i]";
  for (const el of document.querySelectorAll(active)) {
    found.push("element " + el.outerHTML.slice(0, 120));
  }
  for (const el of document.querySelectorAll("script")) {
    const type = (el.getAttribute("type") || "").toLowerCase();
    if (type.includes("json")) continue;
    const src = el.getAttribute("src") || el.getAttribute("href") || el.getAttribute("xlink:href");
    if (!src) { found.push("inline script " + el.outerHTML.slice(0, 120)); continue; }
    if (new URL(src, location.href).origin !== location.origin) found.push("foreign script " + src);
  }
  return found;
}
"""


def marked(payload: Payload) -> str:
    """A Markdown value: the marker's words in a paragraph of their own, then the payload,
    which then starts a block as block-level payloads need to."""
    return f"Words {payload.marker} here.\n\n{payload.text}"


def inline(payload: Payload) -> str:
    """A one-line value: the marker, then the payload."""
    return f"{payload.marker} {payload.text}"


def window(start: int, count: int, pool: list[Payload] = PAYLOADS) -> list[Payload]:
    """``count`` payloads of ``pool`` from ``start`` on, wrapping round."""
    return list(islice(cycle(pool), start % len(pool), start % len(pool) + count))


@dataclass
class World:
    """What was written, and where: the markers each page must show."""

    course: Course
    fields: dict[str, list[Payload]] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)
    # The paragraph of each note written (in the order of its payload).
    note_anchors: list[str] = field(default_factory=list)

    def put(self, name: str, payloads: Iterable[Payload]) -> None:
        self.fields.setdefault(name, []).extend(payloads)

    def markers(self, *names: str) -> list[str]:
        return [p.marker for name in names for p in self.fields[name]]


@dataclass
class Cast:
    """The demo course's people who write in the set-up."""

    instructor: User
    ta: User
    curator: User
    student1: User  # Group A: notes, sources, threads, event proposals
    student2: User  # Group A: replies, posts, flags
    student4: User  # Group B: challenges, link proposals

    @classmethod
    def of_demo(cls) -> Cast:
        names = ("instructor", "ta", "curator", "student1", "student2", "student4")
        users = {user.username: user for user in User.objects.filter(username__in=names)}
        return cls(**{name: users[name] for name in names})


def build(course: Course) -> World:
    """Fill every field people write with payloads, through the services."""
    world, cast = World(course=course), Cast.of_demo()
    write_course_and_people(world, cast)
    notes, paragraphs = write_annotations(world, cast)
    sources = write_sources(world, cast)
    claims, challenges = write_challenges(world, cast, sources)
    events = write_links_and_events(world, cast, claims, sources)
    write_threads(
        world,
        cast,
        {"claim": claims[0], "event": events[0], "challenge": challenges[0], "annotation": notes[1]},
    )
    write_moderation(world, cast, notes, challenges)
    write_assignments(world, cast)
    world.urls.update(
        annotation_edit=f"/annotations/{notes[0].pk}/edit/",
        annotation_delete=f"/annotations/{notes[0].pk}/delete/",
        annotation_api=f"/api/v1/annotations/{notes[0].pk}/",
        annotation_admin=f"/admin/annotations/annotation/{notes[0].pk}/change/",
        paragraph_notes=f"/courses/{course.pk}/read/{paragraphs[0].anchor}/notes/",
    )
    return world


def write_course_and_people(world: World, cast: Cast) -> None:
    """The course's title and term, its groups' names, and two students' display names."""
    course = world.course
    title, term = window(5, 1, short(190))[0], window(7, 1, short(59))[0]
    course_services.course_update(user=cast.instructor, course=course, title=inline(title), term=inline(term))
    world.put("course", [title, term])
    group_names = window(11, 10, short(99))
    for group, payload in zip(
        CourseGroup.objects.filter(course=course).order_by("name"), group_names, strict=False
    ):
        course_services.group_rename(user=cast.instructor, group=group, name=inline(payload))
    for payload in group_names[2:]:
        course_services.group_create(user=cast.instructor, course=course, name=inline(payload))
    world.put("groups", group_names)
    # Display names are set by site staff in the admin; signing up takes only a username
    # (Django's validator: letters, digits and @.+-_) and an e-mail address.
    names = window(21, 4, short(149))
    for user, (first, last) in zip((cast.student1, cast.student4), (names[0:2], names[2:4]), strict=True):
        user.first_name, user.last_name = inline(first), inline(last)
        user.save(update_fields=["first_name", "last_name"])
    world.put("names", names)


def write_annotations(world: World, cast: Cast) -> tuple[list[Annotation], list[Paragraph]]:
    """Every payload in a note's body of its own; tags; replies; flags with their reasons."""
    course = world.course
    paragraphs = list(Paragraph.objects.filter(document=course.reading).exclude(text="").order_by("pk")[:40])
    tags = iter(short(50))
    notes = []
    for i, payload in enumerate(PAYLOADS):
        paragraph = paragraphs[i % len(paragraphs)]
        span = min(12, len(paragraph.text))
        notes.append(
            annotation_services.annotation_create(
                user=cast.student1, course=course, paragraph=paragraph, exact=paragraph.text[:span], start=0,
                end=span, body=marked(payload), tags=[inline(p) for p in islice(tags, 2)], visibility="course",
            )
        )  # fmt: skip
    world.put("annotation", PAYLOADS)
    world.note_anchors = [note.paragraph_anchor for note in notes]
    world.put("tags", short(50))
    replies = window(40, 40)
    for note, payload in zip(notes, replies, strict=False):
        annotation_services.reply_create(user=cast.student2, annotation=note, body=marked(payload))
    world.put("reply", replies)
    flags = window(60, 20, short(499))
    for note, payload in zip(notes[60:], flags, strict=False):
        moderation_services.flag_create(user=cast.student2, target=note, reason="other", text=inline(payload))
    world.put("flag", flags)
    return notes, paragraphs


def write_sources(world: World, cast: Cast) -> list[Source]:
    """Sources a student adds by hand, then imports as BibTeX and as CSL-JSON."""
    course = world.course
    payloads = window(30, 12)
    # A URL must pass the http(s) validator: no blank inside it.
    url_payloads = [p for p in PAYLOADS if not any(c.isspace() for c in p.text)][:12]
    sources = []
    for i, payload in enumerate(payloads):
        other = payloads[(i + 1) % len(payloads)]
        source, _created = source_services.source_add(
            user=cast.student1, course=course, kind="article", title=inline(payload), authors=[inline(other)[:199]],
            container=inline(payload)[:299], publisher=inline(other)[:199], place=inline(payload)[:199],
            pages=inline(payload)[:49], url=f"https://example.com/{payload.marker}/{url_payloads[i].text}",
            note=marked(other), year=2001,
        )  # fmt: skip
        sources.append(source)
    world.put("source", payloads)
    world.put("source-url", url_payloads)
    # BibTeX braces and backslashes are markup of their own: those payloads are left out.
    bibtex = window(90, 3, [p for p in PAYLOADS if not {"{", "}", "\\"} & set(p.text)])
    entries = (
        f"@article{{x{p.n}, title = {{{inline(p)}}}, author = {{Doe, Jane}}, year = {{2003}}, "
        f"journal = {{{inline(p)}}}}}"
        for p in bibtex
    )
    source_services.sources_import(
        user=cast.student1, course=course, format="bibtex", text="\n".join(entries)
    )
    world.put("bibtex", bibtex)
    csl = window(50, 3)
    items = [
        {"id": f"c{p.n}", "type": "article-journal", "title": inline(p), "container-title": inline(p),
         "author": [{"family": inline(p)[:150], "given": "Jo"}], "issued": {"date-parts": [[2004]]}}
        for p in csl
    ]  # fmt: skip
    source_services.sources_import(
        user=cast.student1, course=course, format="csl-json", text=json.dumps(items)
    )
    world.put("csl-json", csl)
    return sources


def write_challenges(world: World, cast: Cast, sources: list[Source]) -> tuple[list[Claim], list[Challenge]]:
    """Challenges on two claims: arguments, the citations' pinpoints, responses, resolutions;
    and errata that site staff confirm."""
    course = world.course
    claims = list(Claim.objects.filter(paragraph__document=course.reading).order_by("pk")[:7])
    arguments, cited = window(70, 40), window(100, 40)
    challenges = []
    for i, (payload, pinpoint) in enumerate(zip(arguments, cited, strict=True)):
        citation = {"source": sources[i % len(sources)], "page": inline(pinpoint)[:49], "quote": inline(pinpoint),
                    "url_fragment": inline(pinpoint)[:299]}  # fmt: skip
        challenges.append(
            challenge_services.challenge_create(
                user=cast.student4, course=course, claim=claims[i % 2], stance=Stance.DISPUTES,
                argument=marked(payload), citations=[citation],
            )
        )  # fmt: skip
    world.put("challenge", arguments)
    world.put("citation", cited)
    responses = window(110, 30)
    for challenge, payload in zip(challenges, responses, strict=False):
        challenge_services.challenge_respond(user=cast.student1, challenge=challenge, body=marked(payload))
    world.put("response", responses)
    feedback = window(0, 20)
    for challenge, payload in zip(challenges[20:], feedback, strict=False):
        challenge_services.challenge_resolve(
            user=cast.instructor, challenge=challenge, status=ChallengeStatus.PARTLY_UPHELD,
            feedback=marked(payload), expected_version=challenge.version,
        )  # fmt: skip
    world.put("resolution", feedback)
    errata = window(120, 2)
    for claim, payload in zip(claims[5:7], errata, strict=True):
        challenge_services.erratum_confirm(user=cast.curator, claim=claim, text=marked(payload))
    world.put("erratum", errata)
    world.urls.update(
        claim_a=f"/courses/{course.pk}/claims/{claims[0].key}/",
        claim_b=f"/courses/{course.pk}/claims/{claims[1].key}/",
        links=f"/courses/{course.pk}/claims/{claims[0].key}/links/",
        public_erratum=f"/claims/{claims[5].key}/",
    )
    return claims, challenges


def write_links_and_events(
    world: World, cast: Cast, claims: list[Claim], sources: list[Source]
) -> list[Event]:
    """Claim–event links and new events proposed, and staff accepting or declining them."""
    course = world.course
    events = list(Event.objects.order_by("date", "key")[:20])
    link_notes = window(20, 20)
    proposals = [
        link_services.link_propose(
            user=cast.student4, course=course, claim=claims[0], event=event, relation="describes",
            note=marked(payload),
        )
        for event, payload in zip(events, link_notes, strict=False)
    ]  # fmt: skip
    world.put("link", link_notes)
    decisions = window(45, 15)
    for i, (proposal, payload) in enumerate(zip(proposals[5:], decisions, strict=True)):
        link_services.link_decide(
            user=cast.instructor, proposal=proposal, accept=i % 3 > 0, feedback=marked(payload)
        )
    world.put("link-decision", decisions)
    event_payloads = window(55, 10, short(199))
    event_proposals = [
        link_services.event_propose(
            user=cast.student1, course=course, title=inline(payload), date=f"{2001 + i}-06-15",
            place=inline(payload), type=Event.Type.values[0], description=marked(payload),
            source=sources[i % len(sources)],
        )
        for i, payload in enumerate(event_payloads)
    ]  # fmt: skip
    world.put("event", event_payloads)
    event_feedback = window(65, 5)
    for proposal, payload in zip(event_proposals[:5], event_feedback, strict=True):
        link_services.event_decide(
            user=cast.instructor, proposal=proposal, accept=True, feedback=marked(payload)
        )
    world.put("event-decision", event_feedback)
    world.put("public-event", event_payloads[:5])
    event_proposals[0].refresh_from_db()
    world.urls["public_event"] = event_proposals[0].event.get_absolute_url()
    return events


def write_threads(world: World, cast: Cast, targets: dict[str, object]) -> None:
    """Thread titles, and every payload in a post; past the first two, threads hang on a
    claim, an event, a challenge or a note, whose pages then list them."""
    course = world.course
    group_a = CourseGroup.objects.filter(course=course, memberships__user=cast.student1).get()
    titles = window(75, 12, short(199))
    hung = [{}, {}, *({name: target} for name, target in islice(cycle(targets.items()), 10))]
    threads = [
        thread_services.thread_create(
            user=cast.student1, course=course, group=group_a if i % 2 else None, title=inline(payload),
            body=f"Opening words {payload.marker}.", **target,
        )
        for i, (payload, target) in enumerate(zip(titles, hung, strict=True))
    ]  # fmt: skip
    world.put("thread", titles)
    for i, payload in enumerate(PAYLOADS):
        # A few mention the instructor too, whose notifications then quote the thread's title.
        mentions = "@student1 @instructor" if i < 4 else "@student1"
        thread_services.post_create(
            user=cast.student2 if i % 3 else cast.student1,
            thread=threads[i % 2],
            body=f"{mentions} {marked(payload)}",
        )
    world.put("post", PAYLOADS)
    second_post = threads[0].posts.order_by("pk")[1]
    world.urls.update(
        thread_course=f"/courses/{course.pk}/threads/{threads[0].pk}/",
        thread_group=f"/courses/{course.pk}/threads/{threads[1].pk}/",
        post_edit=f"/posts/{second_post.pk}/edit/",
        post_admin=f"/admin/annotations/post/{second_post.pk}/change/",
    )


def write_moderation(world: World, cast: Cast, notes: list[Annotation], challenges: list[Challenge]) -> None:
    """Work hidden with a reason its author reads; a student put under pre-moderation and
    released, with the reasons in the audit log."""
    course = world.course
    first_post = Post.objects.filter(thread__course=course).order_by("pk").first()
    reasons = window(85, 3, short(299))
    for target, payload in zip((first_post, notes[-1], challenges[-1]), reasons, strict=True):
        moderation_services.hide(user=cast.ta, target=target, reason=inline(payload))
    world.put("hide", reasons)
    membership = Membership.objects.get(course=course, user=cast.student4)
    premoderation = window(33, 2)
    for enabled, payload in zip((True, False), premoderation, strict=True):
        moderation_services.membership_set_premoderated(
            user=cast.ta, membership=membership, enabled=enabled, reason=inline(payload)
        )
    world.put("premoderation", premoderation)


def write_assignments(world: World, cast: Cast) -> None:
    """Assignments' titles and instructions (staff write them, still input), an extension's
    reason, and grades' feedback released to the students."""
    course, now = world.course, timezone.now()
    titles = window(95, 6, short(199))
    assignments = [
        assignment_services.assignment_create(
            user=cast.instructor, course=course, title=inline(payload), opens_at=now - dt.timedelta(days=1),
            due_at=now + dt.timedelta(days=7), instructions="\n\n".join(marked(p) for p in window(100 + 20 * i, 20)),
            required_annotations=1, hide_peers_until_posted=False, anonymous_to_peers=False,
        )
        for i, payload in enumerate(titles)
    ]  # fmt: skip
    world.put("assignment", titles)
    world.put("instructions", window(100, 20))
    first = assignments[0]
    reasons = window(15, 2, short(299))
    for student, payload in zip((cast.student1, cast.student4), reasons, strict=True):
        assignment_services.extension_grant(
            user=cast.instructor, assignment=first, student=student, due_at=now + dt.timedelta(days=9),
            reason=inline(payload),
        )  # fmt: skip
    world.put("extension", reasons)
    feedback = window(25, 15)
    for student, chunk in ((cast.student1, feedback[:8]), (cast.student4, feedback[8:])):
        assignment_services.grade_set(
            user=cast.instructor,
            assignment=first,
            student=student,
            feedback="\n\n".join(marked(p) for p in chunk),
        )
    assignment_services.grades_release(user=cast.instructor, assignment=first)
    world.put("grade", feedback)
    world.put("grade-student1", feedback[:8])
    world.urls.update(
        assignment=f"/assignments/{first.pk}/",
        assignment_edit=f"/assignments/{first.pk}/edit/",
        assignment_admin=f"/admin/annotations/assignment/{first.pk}/change/",
        progress=f"/assignments/{first.pk}/progress/",
        grade=f"/assignments/{first.pk}/grades/{cast.student1.pk}/",
    )


def covered(world: World) -> set[int]:
    """The numbers of the payloads written into at least one field."""
    return {p.n for payloads in world.fields.values() for p in payloads}


@dataclass
class Visit:
    """A page, who reads it, and the markers it must show."""

    role: str
    url: str
    expected: list[str]
    # A filter given a value it does not know answers 400 with its form's errors.
    statuses: tuple[int, ...] = (200,)
    # A long thread is read page by page (``?page=2``…); the markers are looked for in all.
    pages: int = 1

    def urls(self) -> list[str]:
        return [self.url, *(f"{self.url}?page={n}" for n in range(2, self.pages + 1))]


def literal(world: World, name: str, thread: int) -> list[str]:
    """The template-injection payloads of a thread's posts, which must read as written
    (``{{7*7}}``, not 49)."""
    return [p.text for i, p in enumerate(world.fields[name]) if i % 2 == thread and p.family == "template"]


def reflect(url: str, *names: str) -> str:
    """``url`` with each query parameter named set to a payload: what a page echoes back
    from its query string must be as inert as what is stored."""
    chosen = window(96, len(names), [p for p in PAYLOADS if p.family in ("breakout", "script", "url")])
    return f"{url}?{urlencode({name: p.text for name, p in zip(names, chosen, strict=True)})}"


def visits(world: World) -> list[Visit]:
    c = world.course.pk
    u = world.urls
    m = world.markers
    # Each of the two threads holds half the posts, and its opening post.
    thread_pages = math.ceil((len(PAYLOADS) // 2 + 2) / POSTS_PER_PAGE)
    course_words = m("course")
    # The reading shows the newest few notes of each paragraph (all student1's); the others
    # are on their paragraph's own page.
    by_anchor: dict[str, list[int]] = {}
    for index, anchor in enumerate(world.note_anchors):
        by_anchor.setdefault(anchor, []).append(index)
    on_reading = sorted(i for ids in by_anchor.values() for i in ids[-NOTES_PER_PARAGRAPH:])
    notes, replies, tags = m("annotation"), m("reply"), m("tags")

    def of_notes(ids: list[int], *, with_tags: bool = True) -> list[str]:
        found = [notes[i] for i in ids] + [replies[i] for i in ids if i < len(replies)]
        return found + (
            [tags[j] for i in ids for j in (2 * i, 2 * i + 1) if j < len(tags)] if with_tags else []
        )

    paragraph_pages = [
        Visit("student1", f"/courses/{c}/read/{anchor}/notes/", of_notes(ids))
        for anchor, ids in by_anchor.items()
        if len(ids) > NOTES_PER_PARAGRAPH
    ]
    return [
        # A student of Group A, author of notes, sources, posts and event proposals.
        Visit("student1", f"/courses/{c}/read/", course_words[:1] + of_notes(on_reading)),
        *paragraph_pages,
        Visit("student1", f"/courses/{c}/claims/", course_words[:1]),
        Visit("student1", u["claim_a"], m("challenge", "citation", "response", "resolution")[::2]),
        Visit("student1", u["claim_b"], m("challenge")[1::2]),
        Visit("student1", u["links"], m("link", "link-decision")),
        Visit("student1", f"/courses/{c}/threads/", m("thread")),
        Visit(
            "student1", u["thread_course"], m("post")[2::2] + literal(world, "post", 0), pages=thread_pages
        ),
        Visit("student1", u["thread_group"], m("post")[1::2] + literal(world, "post", 1), pages=thread_pages),
        Visit("student1", f"/courses/{c}/assignments/", m("assignment")),
        Visit("student1", u["assignment"], m("instructions", "grade-student1")),
        Visit("student1", "/notifications/", m("hide")[:2]),
        Visit("student1", f"/courses/{c}/", course_words),
        Visit("student1", f"/courses/{c}/sources/", m("source", "bibtex")),
        Visit("student1", f"/courses/{c}/timeline/", m("public-event")),
        Visit("student1", "/courses/", course_words),
        Visit("student1", u["annotation_edit"], []),
        Visit("student1", f"/courses/{c}/events/propose/", m("source")),
        Visit("student1", u["annotation_delete"], m("annotation")[:1]),
        Visit("student1", u["paragraph_notes"], m("annotation")[:1]),
        Visit("student1", reflect(f"/courses/{c}/claims/", "kind", "status", "section", "paragraph"), []),
        Visit("student1", reflect(f"/courses/{c}/threads/", "group"), []),
        Visit("student1", u["post_edit"], m("thread")[:1]),
        # A student of Group B.
        Visit("student4", f"/courses/{c}/read/", [notes[i] for i in on_reading if i < 60]),
        Visit("student4", u["thread_course"], m("post")[2::2], pages=thread_pages),
        Visit("student4", u["assignment"], m("instructions")),
        # The course's staff.
        Visit("instructor", f"/courses/{c}/read/", of_notes(on_reading, with_tags=False)),
        Visit("instructor", u["claim_a"], m("challenge")[::2]),
        Visit("instructor", u["links"], m("link")),
        Visit("instructor", f"/courses/{c}/proposals/", m("event")[5:]),
        Visit("instructor", f"/courses/{c}/moderation/", m("flag")),
        Visit("instructor", f"/courses/{c}/threads/", m("thread")),
        Visit("instructor", u["thread_group"], m("post")[1::2], pages=thread_pages),
        Visit("instructor", f"/courses/{c}/assignments/", m("assignment")),
        Visit("instructor", u["assignment"], m("instructions")),
        Visit("instructor", u["progress"], m("extension")),
        Visit("instructor", u["grade"], course_words[:1]),
        Visit("instructor", u["assignment_edit"], course_words[:1]),
        Visit("instructor", f"/courses/{c}/dashboard/", m("assignment")),
        Visit("instructor", f"/courses/{c}/", course_words),
        Visit("instructor", f"/courses/{c}/manage/", m("groups", "names")),
        Visit("instructor", f"/courses/{c}/sources/", m("source")),
        Visit("instructor", "/notifications/", m("thread")[:2]),
        Visit("instructor", reflect(u["progress"], "sort", "dir", "group"), []),
        Visit(
            "instructor",
            reflect(f"/courses/{c}/moderation/", "status", "kind", "reason", "author", "opened_from"),
            [],
        ),
        Visit("ta", f"/courses/{c}/moderation/", m("flag")),
        # Site staff, in the admin and the browsable API.
        *(
            Visit("curator", f"/admin/annotations/{model}/", m(*shown)[:limit])
            for model, shown, limit in (
                ("annotation", ["course"], None),
                ("post", ["thread"], 2),
                ("thread", ["thread"], None),
                ("challenge", ["course"], None),
                ("source", ["source"], None),
                ("flag", ["flag"], None),
                ("moderationitem", ["flag"], None),
                ("auditentry", ["hide", "premoderation"], None),
                ("assignment", ["assignment"], None),
                ("grade", ["assignment"], 1),
                ("eventproposal", ["event"], None),
                ("course", ["course"], None),
                ("membership", ["groups"], 2),
            )
        ),
        Visit("curator", "/admin/timeline/event/", m("public-event")),
        Visit("curator", "/admin/auth/user/", m("names")),
        Visit("curator", u["annotation_admin"], m("annotation")[:1]),
        Visit("curator", u["post_admin"], m("post")[:1]),
        Visit("curator", u["assignment_admin"], m("assignment")[:1]),
        *(
            Visit("curator", f"/api/v1/{resource}/?format=api", m(*shown)[:limit])
            for resource, shown, limit in (
                ("annotations", ["course"], None),
                ("posts", ["post"], 30),
                ("threads", ["thread"], None),
                ("challenges", ["challenge"], 8),
                ("sources", ["source"], None),
                ("flags", ["flag"], None),
                ("groups", ["groups"], None),
            )
        ),
        # Anyone.
        Visit("anonymous", "/timeline/", m("public-event")),
        Visit("anonymous", u["public_event"], m("public-event")[:1]),
        Visit("anonymous", u["public_erratum"], m("erratum")[:1]),
        Visit("anonymous", "/claims/", m("public-event")),
        Visit("anonymous", "/sources/", []),
        Visit(
            "anonymous",
            reflect("/claims/", "kind", "variable", "section", "paragraph", "document"),
            [],
            (400,),
        ),
        Visit("anonymous", reflect("/timeline/", "type", "actor", "year_from"), [], (400,)),
        Visit("anonymous", reflect("/accounts/login/", "next"), []),
        Visit("anonymous", reflect("/accounts/signup/", "next"), []),
    ]


W3C = 'application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"'

# One evaluation after load: the payloads that ran, what the audit found, the visible text.
REPORT = f"() => ({{hits: window.__hits, found: ({AUDIT})(), text: document.body.innerText}})"


@dataclass
class Reader:
    """A signed-in browser tab for one role, which records every dialog it is shown."""

    page: object
    dialogs: list[str] = field(default_factory=list)

    def inspect(self, visit: Visit) -> list[str]:
        """What is wrong with a page (or its pages): payloads that ran, dialogs, navigation,
        active markup, missing words."""
        problems: list[str] = []
        text = ""
        for url in visit.urls():
            self.dialogs.clear()
            response = self.page.goto(url, wait_until="load")
            if response is None or response.status not in visit.statuses:
                problems.append(f"{url}: status {response.status if response else 'none'}")
            # Handlers such as autofocus/onfocus or ontoggle fire just after load.
            self.page.wait_for_timeout(100)
            if response is not None and self.page.url != response.url:
                problems.append(f"{url}: navigated away to {self.page.url}")
            report = self.page.evaluate(REPORT)
            if report["hits"]:
                problems.append(f"{url}: payloads ran: {sorted(set(report['hits']))}")
            if self.dialogs:
                problems.append(f"{url}: dialogs opened: {self.dialogs}")
            problems.extend(f"{url}: {found}" for found in report["found"])
            text += report["text"]
        missing = [marker for marker in visit.expected if marker not in text]
        if missing:
            problems.append(f"{len(missing)} of {len(visit.expected)} markers missing: {missing[:8]}")
        return problems

    def fetch(self, url: str, headers: dict[str, str]) -> list[str]:
        """What is wrong with a JSON export: served as anything a browser would run."""
        response = self.page.request.get(url, headers=headers)
        kind = response.headers.get("content-type", "")
        problems = [] if response.ok else [f"status {response.status}"]
        if "json" not in kind:
            problems.append(f"served as {kind}")
        if response.headers.get("x-content-type-options") != "nosniff":
            problems.append("without X-Content-Type-Options: nosniff")
        return problems


@pytest.fixture
def readers(browser, live_server) -> Iterator[Callable[[str], Reader]]:
    """A tab per role, signed in, with the payload recorder installed before any script of
    the page and the site's Content-Security-Policy bypassed."""
    opened: dict[str, tuple[object, Reader]] = {}

    def reader_for(username: str) -> Reader:
        if username not in opened:
            context = browser.new_context(base_url=live_server.url, bypass_csp=True)
            context.add_init_script(RECORDER)
            if username != "anonymous":
                client = Client()
                client.force_login(User.objects.get(username=username))
                cookie = client.cookies[settings.SESSION_COOKIE_NAME]
                context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
            reader = Reader(context.new_page())

            def on_dialog(dialog, reader: Reader = reader) -> None:
                reader.dialogs.append(dialog.message)
                dialog.dismiss()

            reader.page.on("dialog", on_dialog)
            opened[username] = (context, reader)
        return opened[username][1]

    yield reader_for
    for context, _reader in opened.values():
        context.close()


def test_no_payload_in_any_written_field_runs_on_any_page_for_anyone(readers):
    reading_load(path=settings.DEFAULT_READING_DIR)
    call_command("seed_demo", stdout=io.StringIO())
    world = build(Course.objects.get(join_code="SCO-DEMO"))
    assert covered(world) == {p.n for p in PAYLOADS}
    assert min(len(payloads) for payloads in world.fields.values()) >= 2

    failures = {}
    for role, url, headers in (
        ("student1", world.urls["annotation_api"], {"Accept": W3C}),
        ("student1", "/api/v1/timeline.json", {}),
        ("instructor", f"/courses/{world.course.pk}/work.json", {}),
    ):
        problems = readers(role).fetch(url, headers)
        if problems:
            failures[f"{role} {url}"] = problems
    for visit in visits(world):
        problems = readers(visit.role).inspect(visit)
        if problems:
            failures[f"{visit.role} {visit.url}"] = problems
    assert not failures, "\n".join(f"{where}: {'; '.join(problems)}" for where, problems in failures.items())
