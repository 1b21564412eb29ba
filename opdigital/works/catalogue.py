"""The "Obras do OP" list: every work the programme chose, in every edition and cycle kind of
the public cycles, with its filters, its pages and the status summary per region.

A work is a selected proposal of a cycle whose result is known (tallied, published or
monitoring: never a draft's, nor a proposal marked selected before the result is out). The
page, its CSV, the API list and the GeoJSON download select works here, so one filter means the
same everywhere. Percent done, lateness and money come from works/progress.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from math import ceil

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import contains_eager, selectinload

from opdigital.cycles.models import Cycle, CycleKind
from opdigital.errors import DomainError, NotFound
from opdigital.extensions import db
from opdigital.proposals.models import ExecutionStatus, Proposal, ProposalStatus
from opdigital.proposals.services import RESULTS_KNOWN_STATES
from opdigital.regions.models import Region, School
from opdigital.regions.queries import region_by_slug
from opdigital.works import progress as figures
from opdigital.works.models import WorkMilestone

# A work with no execution news yet has not started (the tally sets "not_started"; older rows
# may have none).
NOT_STARTED = ExecutionStatus.NOT_STARTED.value
STATUSES = tuple(s.value for s in ExecutionStatus)
KINDS = tuple(k.value for k in CycleKind)
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class WorkFilter:
    """Which works to show; None means no filter on that field.

    `late`: True keeps the late works only, False the works that are not late.
    """

    region: Region | None = None
    status: str | None = None
    late: bool | None = None
    edition: int | None = None
    kind: str | None = None

    @property
    def is_empty(self) -> bool:
        return self == WorkFilter()


@dataclass(frozen=True)
class Work:
    """A work with its figures on the day the list was made."""

    proposal: Proposal
    region: Region | None  # its own region, else its school's; None for a city-wide work
    status: str  # the execution status (never None)
    progress: figures.Progress
    money: figures.Money

    @property
    def settled(self) -> bool:
        return self.status in (figures.DONE, figures.CANCELLED)


@dataclass
class RegionSummary:
    """How many works of a region (None: the whole city) are in each status, and late."""

    region: Region | None
    by_status: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    late: int = 0

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    def count(self, work: Work) -> None:
        self.by_status[work.status] += 1
        self.late += work.progress.late


@dataclass(frozen=True)
class Catalogue:
    """The works a filter selects (in list order) and their summary per region."""

    works: list[Work]
    regions: list[RegionSummary]
    totals: RegionSummary


@dataclass(frozen=True)
class Page:
    items: list[Work]
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


# --- reading filters -----------------------------------------------------------------------

# The same filter under the page's Portuguese names and the API's English ones.
PAGE_NAMES = {
    "region": "regiao",
    "status": "situacao",
    "late": "atrasadas",
    "edition": "edicao",
    "kind": "tipo",
}
API_NAMES = {
    "region": "region",
    "status": "execution_status",
    "late": "late",
    "edition": "edition",
    "kind": "kind",
}


def _text(value: str | None) -> str:
    return (value or "").strip()


def parse_status(value: str | None) -> str | None:
    value = _text(value)
    if value and value not in STATUSES:
        raise DomainError(
            _l("Unknown execution status %(status)s.", status=value), code="invalid_status"
        )
    return value or None


def parse_late(value: str | None) -> bool | None:
    value = _text(value)
    if not value:
        return None
    if value not in ("true", "false"):
        raise DomainError(_l("The late filter takes true or false."), code="invalid_late")
    return value == "true"


def parse_edition(value: str | None) -> int | None:
    value = _text(value)
    if not value:
        return None
    # ASCII digits only: int() would also take other scripts' digits and signs.
    if not (value.isascii() and value.isdigit() and len(value) <= 4) or int(value) < 1:
        raise DomainError(_l("An edition is a year, such as 2024."), code="invalid_edition")
    return int(value)


def parse_kind(value: str | None) -> str | None:
    value = _text(value)
    if value and value not in KINDS:
        raise DomainError(_l("Unknown cycle kind %(kind)s.", kind=value), code="invalid_kind")
    return value or None


def parse_positive(value: str | None, default: int, *, maximum: int | None = None) -> int:
    """A page number or size: `default` when absent, a 400 when not a whole number in range."""
    value = _text(value)
    if not value:
        return default
    if not (value.isascii() and value.isdigit() and len(value) <= 6) or int(value) < 1:
        raise DomainError(_l("Pages are counted from 1."), code="invalid_page")
    if maximum is not None and int(value) > maximum:
        raise DomainError(
            _l("At most %(maximum)d works per page.", maximum=maximum), code="invalid_page"
        )
    return int(value)


def read_filter(args: Mapping[str, str], names: Mapping[str, str]) -> WorkFilter:
    """The filter in query arguments `args` under `names` (PAGE_NAMES or API_NAMES).

    Unknown regions are a NotFound (404); other bad values a 400 with a code.
    """
    return WorkFilter(
        region=region_by_slug(_text(args.get(names["region"]))),
        status=parse_status(args.get(names["status"])),
        late=parse_late(args.get(names["late"])),
        edition=parse_edition(args.get(names["edition"])),
        kind=parse_kind(args.get(names["kind"])),
    )


def filter_args(flt: WorkFilter, names: Mapping[str, str]) -> dict[str, str]:
    """The filter as query arguments under `names`, for links to pages and downloads."""
    values = {
        "region": flt.region.slug if flt.region else None,
        "status": flt.status,
        "late": None if flt.late is None else ("true" if flt.late else "false"),
        "edition": str(flt.edition) if flt.edition is not None else None,
        "kind": flt.kind,
    }
    return {names[key]: value for key, value in values.items() if value is not None}


# --- selecting works -----------------------------------------------------------------------


def _conditions(flt: WorkFilter) -> list:
    conditions = [
        Proposal.status == ProposalStatus.SELECTED.value,
        Cycle.state.in_([s.value for s in RESULTS_KNOWN_STATES]),
    ]
    if flt.region is not None:
        in_region_schools = sa.select(School.id).where(School.region_id == flt.region.id)
        conditions.append(
            sa.or_(
                Proposal.region_id == flt.region.id,
                sa.and_(Proposal.region_id.is_(None), Proposal.school_id.in_(in_region_schools)),
            )
        )
    if flt.status is not None:
        conditions.append(sa.func.coalesce(Proposal.execution_status, NOT_STARTED) == flt.status)
    if flt.edition is not None:
        conditions.append(Cycle.edition == flt.edition)
    if flt.kind is not None:
        conditions.append(Cycle.kind == flt.kind)
    return conditions


def work_scope(flt: WorkFilter | None = None) -> list:
    """The WHERE conditions (over Proposal joined to its Cycle) of the works `flt` selects,
    lateness aside: for other queries over works (the feed's updates)."""
    return _conditions(flt or WorkFilter())


def _steps(proposal_ids: sa.Select) -> dict[int, list[figures.Step]]:
    rows = db.session.execute(
        sa.select(
            WorkMilestone.proposal_id,
            WorkMilestone.planned_on,
            WorkMilestone.done_on,
            WorkMilestone.weight,
        ).where(WorkMilestone.proposal_id.in_(proposal_ids))
    )
    steps: dict[int, list[figures.Step]] = {}
    for proposal_id, planned_on, done_on, weight in rows:
        steps.setdefault(proposal_id, []).append(figures.Step(planned_on, done_on, weight))
    return steps


def work_region(proposal: Proposal) -> Region | None:
    """The region a work belongs to: its own, else its school's (OPCA), else none (city-wide)."""
    if proposal.region is not None:
        return proposal.region
    return proposal.school.region if proposal.school is not None else None


def as_work(proposal: Proposal, steps: list[figures.Step], today: date) -> Work:
    status = proposal.execution_status or NOT_STARTED
    return Work(
        proposal=proposal,
        region=work_region(proposal),
        status=status,
        progress=figures.progress(steps, today, status),
        money=figures.money(proposal.cost_cents, proposal.committed_cents, proposal.spent_cents),
    )


def _order(work: Work) -> tuple:
    cycle = work.proposal.cycle
    region_name = work.region.name if work.region else ""
    # Latest edition first; in a cycle, by region (city-wide works last), then by code.
    return (
        -cycle.edition,
        cycle.title,
        cycle.id,
        work.region is None,
        region_name,
        work.proposal.code,
    )


def find_works(flt: WorkFilter, today: date) -> list[Work]:
    """Every work `flt` selects, with its figures on `today`, in list order."""
    conditions = _conditions(flt)
    proposals = db.session.scalars(
        sa.select(Proposal)
        .join(Cycle, Proposal.cycle_id == Cycle.id)
        .where(*conditions)
        .options(
            contains_eager(Proposal.cycle),
            selectinload(Proposal.region),
            selectinload(Proposal.school).selectinload(School.region),
        )
    ).all()
    ids = sa.select(Proposal.id).join(Cycle, Proposal.cycle_id == Cycle.id).where(*conditions)
    steps = _steps(ids)
    works = [as_work(p, steps.get(p.id, []), today) for p in proposals]
    if flt.late is not None:
        # Lateness depends on today and on every milestone: decided by progress.py, not SQL.
        works = [w for w in works if w.progress.late == flt.late]
    return sorted(works, key=_order)


def summarise(works: list[Work]) -> tuple[list[RegionSummary], RegionSummary]:
    """The status counts per region (by name, city-wide works last) and for all of `works`."""
    by_region: dict[int | None, RegionSummary] = {}
    totals = RegionSummary(None)
    for work in works:
        key = work.region.id if work.region else None
        by_region.setdefault(key, RegionSummary(work.region)).count(work)
        totals.count(work)
    rows = sorted(
        by_region.values(), key=lambda r: (r.region is None, r.region.name if r.region else "")
    )
    return rows, totals


def build_catalogue(flt: WorkFilter, today: date) -> Catalogue:
    works = find_works(flt, today)
    regions, totals = summarise(works)
    return Catalogue(works=works, regions=regions, totals=totals)


def page_of(works: list[Work], number: int, per_page: int | None = None) -> Page:
    """Page `number` (from 1) of `works`; NotFound past the last page (page 1 always exists)."""
    per_page = per_page or PAGE_SIZE
    page = Page(
        items=works[(number - 1) * per_page : number * per_page],
        number=number,
        per_page=per_page,
        total=len(works),
    )
    if number > page.pages:
        raise NotFound(
            _l("There is no page %(page)d of this list.", page=number), code="page_not_found"
        )
    return page


def editions() -> list[int]:
    """The editions that have works, latest first (for the filter's choices)."""
    return list(
        db.session.scalars(
            sa.select(Cycle.edition)
            .join(Proposal, Proposal.cycle_id == Cycle.id)
            .where(*_conditions(WorkFilter()))
            .distinct()
            .order_by(Cycle.edition.desc())
        )
    )
