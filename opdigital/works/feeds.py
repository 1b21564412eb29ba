"""The Atom feed of the works' execution: each change of a work's execution status (its
history on the execution track) and each milestone done, newest first, for the whole city or
one region.

Links are absolute from PUBLIC_BASE_URL (never from the request's Host header: feed readers and
caches keep them). Entry ids are tag: URIs (RFC 4151) built from the row they tell about, so an
entry keeps its id when its text is corrected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from urllib.parse import urlsplit

import sqlalchemy as sa
from feedgen.feed import FeedGenerator
from flask import current_app
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from sqlalchemy.orm import contains_eager

from opdigital.clock import CITY_TZ, now
from opdigital.cycles.models import Cycle
from opdigital.extensions import db
from opdigital.formatting import labels
from opdigital.mail.links import external_url
from opdigital.proposals.models import HistoryTrack, Proposal, ProposalHistory
from opdigital.regions.models import Region
from opdigital.works.catalogue import PAGE_NAMES, WorkFilter, filter_args, work_scope
from opdigital.works.models import WorkMilestone

FEED_LIMIT = 50
MIMETYPE = "application/atom+xml"
# The tag: URIs' date: any day the site's domain was the city's; fixed, so ids never change.
TAG_DATE = "2024"
# XML 1.0 forbids these characters; a note pasted from elsewhere must not break the feed.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class Update:
    """One piece of news about a work."""

    key: str  # what the entry's id is made of, e.g. "execution/12"
    proposal: Proposal
    updated: datetime  # when it was recorded (or last corrected)
    published: datetime  # when it happened
    title: str
    summary: str


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=CITY_TZ)


def _status_news(entry: ProposalHistory) -> Update:
    names = labels()["execution"]
    proposal = entry.proposal
    status = str(names.get(entry.to_status, entry.to_status))
    if entry.from_status and entry.from_status != entry.to_status:
        before = str(names.get(entry.from_status, entry.from_status))
        said = _(
            "Execution status changed from %(before)s to %(after)s.", before=before, after=status
        )
    else:
        said = _("Execution status: %(status)s.", status=status)
    return Update(
        key=f"execution/{entry.id}",
        proposal=proposal,
        updated=entry.at,
        published=entry.at,
        title=_(
            "%(code)s %(title)s: %(status)s",
            code=proposal.code,
            title=proposal.title,
            status=status,
        ),
        summary=" ".join(part for part in (said, entry.note.strip()) if part),
    )


def _milestone_news(milestone: WorkMilestone) -> Update:
    proposal = milestone.proposal
    done = format_date(milestone.done_on, "long")
    said = _("Step “%(step)s” done on %(day)s.", step=milestone.title, day=done)
    return Update(
        key=f"milestone/{milestone.id}",
        proposal=proposal,
        updated=milestone.updated_at,
        published=_start_of(milestone.done_on),
        title=_(
            "%(code)s %(title)s: step done: %(step)s",
            code=proposal.code,
            title=proposal.title,
            step=milestone.title,
        ),
        summary=" ".join(part for part in (said, milestone.note.strip()) if part),
    )


def execution_updates(region: Region | None = None, limit: int = FEED_LIMIT) -> list[Update]:
    """The latest `limit` pieces of news about the works (of `region`), newest first."""
    scope = work_scope(WorkFilter(region=region))
    history = db.session.scalars(
        sa.select(ProposalHistory)
        .join(Proposal, ProposalHistory.proposal_id == Proposal.id)
        .join(Cycle, Proposal.cycle_id == Cycle.id)
        .where(ProposalHistory.track == HistoryTrack.EXECUTION.value, *scope)
        .options(contains_eager(ProposalHistory.proposal))
        .order_by(ProposalHistory.at.desc(), ProposalHistory.id.desc())
        .limit(limit)
    ).all()
    milestones = db.session.scalars(
        sa.select(WorkMilestone)
        .join(Proposal, WorkMilestone.proposal_id == Proposal.id)
        .join(Cycle, Proposal.cycle_id == Cycle.id)
        .where(WorkMilestone.done_on.is_not(None), *scope)
        .options(contains_eager(WorkMilestone.proposal))
        .order_by(WorkMilestone.updated_at.desc(), WorkMilestone.id.desc())
        .limit(limit)
    ).all()
    news = [_status_news(h) for h in history] + [_milestone_news(m) for m in milestones]
    news.sort(key=lambda u: (u.updated, u.key), reverse=True)
    return news[:limit]


def _tag(specific: str) -> str:
    authority = urlsplit(current_app.config["PUBLIC_BASE_URL"]).hostname or "localhost"
    return f"tag:{authority},{TAG_DATE}:obras/{specific}"


def feed_id(region: Region | None) -> str:
    return _tag(f"feed/{region.slug}" if region else "feed")


def entry_id(update: Update) -> str:
    return _tag(update.key)


def atom_feed(updates: list[Update], region: Region | None) -> bytes:
    """The Atom document (UTF-8 bytes) of `updates`, in the order given."""
    args = filter_args(WorkFilter(region=region), PAGE_NAMES)
    feed = FeedGenerator()
    feed.id(feed_id(region))
    if region is None:
        feed.title(_("Works of the participatory budget: execution news"))
    else:
        feed.title(
            _("Works of the participatory budget in %(region)s: execution news", region=region.name)
        )
    feed.subtitle(_("Status changes and milestones done of the works chosen by the city's people."))
    feed.author({"name": _("OP Digital, Belo Horizonte participatory budget")})
    feed.link(href=external_url("works.feed", **args), rel="self", type=MIMETYPE)
    feed.link(href=external_url("works.catalogue", **args), rel="alternate", type="text/html")
    feed.language(str(get_locale()).replace("_", "-"))
    feed.generator("OP Digital")
    feed.updated(updates[0].updated if updates else now())
    for update in updates:
        entry = feed.add_entry(order="append")
        entry.id(entry_id(update))
        entry.title(_clean(update.title))
        entry.updated(update.updated)
        entry.published(update.published)
        entry.link(
            href=external_url("public.proposal", code=update.proposal.code),
            rel="alternate",
            type="text/html",
        )
        entry.summary(_clean(update.summary))
    return feed.atom_str(pretty=True)
