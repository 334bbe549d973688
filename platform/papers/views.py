"""Paper pages and the SVG badges of papers and runs."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import get_conditional_response
from django.views.decorators.http import require_safe

from papers import badges
from papers.claims import QUANTITIES, STATUSES
from papers.selectors import paper_detail as select_paper_detail
from papers.selectors import paper_list as select_paper_list
from papers.selectors import paper_public_status, paper_visible_submissions, run_for_badge, run_visible_to

# Badges are embedded in READMEs and papers: caches may keep one for five minutes.
PUBLIC_BADGE_CACHE = "public, max-age=300"
PRIVATE_BADGE_CACHE = "private, no-store"


@require_safe
def paper_list(request: HttpRequest) -> HttpResponse:
    checks = select_paper_list(viewer=request.user)
    return render(request, "papers/paper_list.html", {"checks": checks, "statuses": STATUSES})


@require_safe
def paper_detail(request: HttpRequest, slug: str) -> HttpResponse:
    check = select_paper_detail(slug=slug, viewer=request.user)
    if check is None:
        raise Http404("no such paper")
    paper = check.paper
    # The badge shows what anyone can see; a logged-in viewer may see more on the page.
    public_status = check.status if not request.user.is_authenticated else paper_public_status(slug=paper.slug)
    page_url = request.build_absolute_uri(reverse("paper-detail", args=[paper.slug]))
    badge_url = request.build_absolute_uri(reverse("paper-badge", args=[paper.slug]))
    return render(
        request,
        "papers/paper_detail.html",
        {
            "check": check,
            "paper": paper,
            "submissions": paper_visible_submissions(paper=paper, viewer=request.user),
            "quantities": QUANTITIES,
            "badge_url": badge_url,
            "badge_markdown": f"[![Footprint: {public_status}]({badge_url})]({page_url})",
        },
    )


def _svg_response(request: HttpRequest, badge: badges.Badge, *, cache_control: str) -> HttpResponse:
    svg = badges.badge_svg(badge)
    response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    response["Cache-Control"] = cache_control
    response["ETag"] = badges.badge_etag(svg)
    # A 304 (If-None-Match matched) keeps the ETag and Cache-Control headers set above.
    return get_conditional_response(request, etag=response["ETag"], response=response)


@require_safe
def paper_badge(request: HttpRequest, slug: str) -> HttpResponse:
    status = paper_public_status(slug=slug)
    if status is None:
        raise Http404("no such paper")
    return _svg_response(request, badges.paper_badge(status=status), cache_control=PUBLIC_BADGE_CACHE)


@require_safe
def run_badge(request: HttpRequest, run_id: int) -> HttpResponse:
    found = run_for_badge(run_id=run_id)
    if found is None:
        raise Http404("no such run")
    run, speedup = found
    if run.submission.published:
        # Decided without looking at the session: a published run's badge is the same for everyone.
        cache_control = PUBLIC_BADGE_CACHE
    else:
        if not run_visible_to(run=run, viewer=request.user):
            raise Http404("no such run")
        cache_control = PRIVATE_BADGE_CACHE
    return _svg_response(request, badges.run_badge(run=run, speedup=speedup), cache_control=cache_control)
