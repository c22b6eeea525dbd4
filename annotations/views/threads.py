"""Discussion pages: a course's threads, a thread with its nested posts, and the forms
to post, reply, edit, delete, mark helpful and moderate.

Every form works without JavaScript (it posts and redirects); with htmx the reply and
"helpful" forms swap their fragment in place. A course or thread the user may not see is
a 404; an act they may not do is a 403; a refused post (a locked thread) is a 400.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from annotations import fragments, permissions, selectors
from annotations.forms import PostForm, ThreadForm, ThreadMoveForm, add_service_errors
from annotations.models import Claim, Post
from annotations.services import threads as services
from timeline.models import Event

DEEP = 6  # beyond this depth replies stop indenting (the nesting stays in the markup)
# A thread's page fills up to about this many posts, never parting a reply from its parent.
POSTS_PER_PAGE = 30


def post_url(post: Post) -> str:
    """A post in its thread: the query opens the page that holds it, the fragment the post."""
    url = reverse("threads:detail", args=[post.thread.course_id, post.thread_id])
    return f"{url}?post={post.pk}#post-{post.pk}"


def _groups_for(user, course):
    """The groups ``user`` may open a thread in: any for staff, their own for students."""
    if permissions.can_teach(user, course):
        return course.groups.order_by("name")
    membership = permissions.membership_of(user, course)
    if membership is None or membership.group_id is None:
        return course.groups.none()
    return course.groups.filter(pk=membership.group_id)


def _target(request: HttpRequest, course) -> dict:
    """The thread's target from the query string (``?claim=<key>``, ``?event=<id>``, …)."""
    lookups = {
        "claim": (Claim.objects.all(), "key"),
        "event": (Event.objects.all(), "pk"),
        "annotation": (selectors.visible_annotations(request.user).filter(course=course), "pk"),
        "challenge": (selectors.visible_challenges(request.user).filter(course=course), "pk"),
    }
    for name, (queryset, field) in lookups.items():
        value = request.GET.get(name)
        if value:
            try:
                return {name: queryset.get(**{field: value})}
            except (queryset.model.DoesNotExist, ValueError):
                raise Http404(f"No such {name}.") from None
    return {}


@login_required
def thread_list(request: HttpRequest, pk: int) -> HttpResponse:
    course = selectors.course_for_user(request.user, pk)
    target = _target(request, course)
    threads = selectors.thread_list(request.user).filter(course=course, **target)
    group = request.GET.get("group")
    if group == "course":
        threads = threads.filter(group__isnull=True)
    elif group:
        # A group that is not a number is no group of the course: nothing matches it.
        threads = threads.filter(group_id=group) if group.isdigit() else threads.none()
    groups = _groups_for(request.user, course)
    form = ThreadForm(request.POST or None, groups=groups)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                thread = services.thread_create(
                    user=request.user,
                    course=course,
                    title=form.cleaned_data["title"],
                    body=form.cleaned_data["body"],
                    group=form.cleaned_data["group"],
                    **target,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                return redirect("threads:detail", pk=course.pk, thread_pk=thread.pk)
        status = 400
    context = {
        "course": course,
        "threads": threads,
        "form": form,
        "target": target,
        "groups": course.groups.order_by("name") if permissions.can_teach(request.user, course) else groups,
        "can_post": permissions.membership_of(request.user, course) is not None
        or permissions.can_teach(request.user, course),
    }
    return render(request, "annotations/threads/list.html", context, status=status)


def _tokens(roots: list[Post]) -> list[tuple[str, Post | None]]:
    """The tree as a flat run of ("post", p), ("open", p) and ("close", None) tokens, so the
    template nests <ol>s with a loop rather than recursion however deep the thread goes."""
    tokens: list[tuple[str, Post | None]] = []
    stack: list[tuple[str, Post | None]] = [("post", post) for post in reversed(roots)]
    while stack:
        kind, post = stack.pop()
        tokens.append((kind, post))
        if kind == "post":
            # Popped in order: the "open", the replies, then the "close".
            stack.append(("close", None))
            stack.extend(("post", child) for child in reversed(post.children))
            stack.append(("open", post))
    return tokens


def _detail_context(request: HttpRequest, thread, **extra) -> dict:
    roots, page = selectors.thread_page(
        request.user,
        thread,
        per_page=POSTS_PER_PAGE,
        number=request.GET.get("page"),
        post=request.GET.get("post"),
    )
    teach = permissions.can_moderate_thread(request.user, thread)
    tokens = _tokens(roots)
    context = {
        "course": thread.course,
        "thread": thread,
        "tokens": tokens,
        "page": page,
        "deep": DEEP,
        "form": PostForm(),
        "can_moderate": teach,
        "move_form": ThreadMoveForm(
            initial={"group": thread.group_id}, groups=thread.course.groups.order_by("name")
        )
        if teach
        else None,
        **extra,
    }
    fragments.render_posts(request, [post for kind, post in tokens if kind == "post"], context)
    return context


@login_required
def thread_detail(request: HttpRequest, pk: int, thread_pk: int) -> HttpResponse:
    course = selectors.course_for_user(request.user, pk)
    thread = selectors.thread_for_user(request.user, thread_pk)
    if thread.course_id != course.pk:
        raise Http404("No such thread.")
    services.thread_mark_read(user=request.user, thread=thread)
    return render(request, "annotations/threads/detail.html", _detail_context(request, thread))


def _thread(request: HttpRequest, pk: int, thread_pk: int):
    thread = selectors.thread_for_user(request.user, thread_pk)
    if thread.course_id != int(pk):
        raise Http404("No such thread.")
    return thread


@login_required
@require_POST
def post_create(request: HttpRequest, pk: int, thread_pk: int) -> HttpResponse:
    thread = _thread(request, pk, thread_pk)
    parent = None
    if request.POST.get("parent"):
        parent = thread.posts.filter(pk=request.POST["parent"]).first()
        if parent is None:
            raise Http404("No such post.")
    form = PostForm(request.POST)
    error = None
    if form.is_valid():
        try:
            post = services.post_create(
                user=request.user, thread=thread, body=form.cleaned_data["body"], parent=parent
            )
        except ValidationError as exc:
            error = exc
        else:
            if request.htmx:
                post = selectors.post_list(request.user).get(pk=post.pk)
                post.children, post.depth = (
                    [],
                    (parent.depth + 1 if parent and hasattr(parent, "depth") else 0),
                )
                return render(request, "annotations/threads/_new_post.html", {"post": post, "thread": thread})
            return redirect(post_url(post))
    else:
        error = ValidationError(form.errors.get("body", [gettext("Write something to post.")]))
    message = " ".join(error.messages)
    if request.htmx:
        # htmx does not swap a 400 in: htmx-forms.js reads this alert into the form's own
        # feedback region and leaves the typed text where it is.
        return HttpResponse(format_html('<p class="error" role="alert">{}</p>', message), status=400)
    context = _detail_context(request, thread, error=message)
    return render(request, "annotations/threads/detail.html", context, status=400)


def _own_post(request: HttpRequest, post_pk: int) -> Post:
    post = selectors.visible_posts(request.user).select_related("thread").filter(pk=post_pk).first()
    if post is None:
        raise Http404("No such post.")
    return post


@login_required
def post_edit(request: HttpRequest, post_pk: int) -> HttpResponse:
    post = _own_post(request, post_pk)
    if not permissions.can_change_post(request.user, post):
        raise PermissionDenied(services.NOT_YOURS)
    form = PostForm(request.POST or None, initial={"body": post.body})
    if request.method == "POST" and form.is_valid():
        try:
            services.post_edit(user=request.user, post=post, body=form.cleaned_data["body"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect(post_url(post))
    context = {"post": post, "thread": post.thread, "form": form, "revisions": post.revisions.all()}
    return render(request, "annotations/threads/edit.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def post_delete(request: HttpRequest, post_pk: int) -> HttpResponse:
    post = _own_post(request, post_pk)
    services.post_delete(user=request.user, post=post)
    messages.success(request, gettext("Your post is deleted; replies to it stay in place."))
    return redirect(post_url(post))


@login_required
@require_POST
def post_helpful(request: HttpRequest, post_pk: int) -> HttpResponse:
    post = _own_post(request, post_pk)
    services.reaction_toggle(user=request.user, post=post)
    if request.htmx:
        post = selectors.post_list(request.user).get(pk=post.pk)
        return render(request, "annotations/threads/_helpful.html", {"post": post})
    return redirect(post_url(post))


@login_required
@require_POST
def thread_moderate(request: HttpRequest, pk: int, thread_pk: int) -> HttpResponse:
    thread = _thread(request, pk, thread_pk)
    act = request.POST.get("act")
    if act in ("pin", "unpin"):
        services.thread_pin(user=request.user, thread=thread, pinned=act == "pin")
    elif act in ("lock", "unlock"):
        services.thread_lock(user=request.user, thread=thread, locked=act == "lock")
    elif act == "move":
        if not permissions.can_moderate_thread(request.user, thread):
            raise PermissionDenied(services.NOT_STAFF)
        form = ThreadMoveForm(request.POST, groups=thread.course.groups.all())
        if not form.is_valid():
            return HttpResponse("No such group in this course.", status=400)
        services.thread_move(user=request.user, thread=thread, group=form.cleaned_data["group"])
    else:
        return HttpResponse("Unknown action.", status=400)
    messages.success(request, gettext("The thread is updated."))
    return redirect("threads:detail", pk=thread.course_id, thread_pk=thread.pk)


@login_required
def mentions(request: HttpRequest, pk: int) -> JsonResponse:
    """Usernames of the course's members for @-autocompletion (members and staff only)."""
    course = selectors.course_for_user(request.user, pk)
    names = services.mention_candidates(user=request.user, course=course, prefix=request.GET.get("q", ""))
    return JsonResponse({"results": names})
