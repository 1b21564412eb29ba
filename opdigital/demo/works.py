"""Demo data: the 2024 works followed in public. Milestones, money and a department for each
selected work, photos (drawn here, never downloaded) of the works under way or done, and a
Comforça member of Barreiro with one report published and one waiting for a coordinator.

Everything goes through the same services as the staff screens (audited, checked). Loaded only
for works that have no milestone yet, so running the demo again changes nothing.
"""

from __future__ import annotations

import io
from datetime import date, timedelta

import sqlalchemy as sa
from PIL import Image, ImageDraw

from opdigital.accounts.models import User
from opdigital.accounts.services import NewUser, create_user, normalise_email
from opdigital.cycles.models import Cycle
from opdigital.extensions import db
from opdigital.proposals.models import Proposal, ProposalStatus
from opdigital.works import evidence, photos, reports
from opdigital.works.models import WorkMilestone

DEPARTMENT = "Superintendência de Desenvolvimento da Capital (SUDECAP)"
# DEMO ONLY: a published password, like the other demo accounts.
MONITOR = NewUser(
    "comforca.barreiro@demo.opdigital.local",
    "demo-comforca-2026",
    "monitor",
    "Comforça Barreiro (demo)",
    region="barreiro",
)
MONITOR_REGION = "barreiro"

# (title, weight, days from the plan's start): the usual steps of a work of the programme.
STEPS = (
    ("Projeto executivo aprovado", 1, 0),
    ("Licitação concluída", 1, 90),
    ("Ordem de serviço e início das obras", 1, 150),
    ("Metade das obras executada", 3, 270),
    ("Obra entregue à comunidade", 2, 420),
)
# Steps done, per execution status; the share of the voted cost committed and spent.
DONE_STEPS = {"not_started": 0, "tendering": 1, "in_works": 3, "done": 5, "cancelled": 1}
MONEY = {
    "not_started": (None, None),
    "tendering": (0.0, 0.0),
    "in_works": (0.9, 0.35),
    "done": (0.97, 0.97),
    "cancelled": (0.0, 0.0),
}
PHOTOGRAPHED = ("in_works", "done")


def _works(slug: str) -> list[Proposal]:
    return list(
        db.session.scalars(
            sa.select(Proposal)
            .join(Cycle)
            .where(Cycle.slug == slug, Proposal.status == ProposalStatus.SELECTED.value)
            .order_by(Proposal.code)
        )
    )


def _has_milestones(work: Proposal) -> bool:
    query = sa.select(WorkMilestone.id).where(WorkMilestone.proposal_id == work.id).limit(1)
    return db.session.scalar(query) is not None


def _plan_start(today: date) -> date:
    # The 2024 edition was decided late in 2024: its plans start early in 2025.
    return min(date(2025, 2, 3), today - timedelta(days=300))


def _follow(work: Proposal, actor, today: date) -> None:
    status = work.execution_status or "not_started"
    start = _plan_start(today)
    done = DONE_STEPS.get(status, 0)
    for index, (title, weight, offset) in enumerate(STEPS):
        planned = start + timedelta(days=offset)
        # Done steps a little after their plan (never in the future); the others stay open,
        # so a work under way with a step past its date shows as late.
        done_on = min(planned + timedelta(days=12 * index), today) if index < done else None
        evidence.add_milestone(
            work,
            evidence.MilestoneData(title=title, planned_on=planned, done_on=done_on, weight=weight),
            actor,
        )
    committed, spent = MONEY.get(status, (None, None))
    evidence.update_figures(
        work,
        evidence.Figures(
            department=DEPARTMENT,
            committed_cents=None if committed is None else int(work.cost_cents * committed),
            spent_cents=None if spent is None else int(work.cost_cents * spent),
        ),
        actor,
    )
    if status in PHOTOGRAPHED:
        evidence.upload_photo(
            work,
            demo_photo(work.code, status),
            alt_text=f"Ilustração de demonstração da obra {work.code}: {work.title}",
            caption="Imagem gerada para a demonstração (não é uma foto real).",
            taken_on=today - timedelta(days=20),
            actor=actor,
        )


def demo_photo(label: str, status: str) -> photos.ProcessedPhoto:
    """A drawn picture (sky, ground, a building going up), through the same processing as an
    upload."""
    image = Image.new("RGB", (1200, 800), (135, 190, 230))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 520, 1200, 800), fill=(110, 150, 90))
    floors = 4 if status == "done" else 2
    for floor in range(floors):
        top = 520 - (floor + 1) * 90
        draw.rectangle((380, top, 820, top + 88), fill=(200, 170, 130), outline=(90, 70, 50))
        for window in range(4):
            left = 410 + window * 100
            draw.rectangle((left, top + 20, left + 60, top + 60), fill=(70, 110, 150))
    if status != "done":
        draw.line((900, 520, 900, 120), fill=(230, 170, 30), width=14)  # a crane
        draw.line((700, 130, 1150, 130), fill=(230, 170, 30), width=10)
    draw.text((40, 40), f"OP Digital - demonstração - {label}", fill=(20, 30, 40))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    buffer.seek(0)
    return photos.process_upload(buffer, max_side=1600)


def _monitor() -> tuple[User, bool]:
    email = normalise_email(MONITOR.email)
    user = db.session.scalar(sa.select(User).where(User.email == email))
    if user is not None:
        return user, False
    return create_user(MONITOR), True


def _reports(actor, work: Proposal) -> None:
    monitor, _created = _monitor()
    published = reports.submit_report(
        monitor,
        work,
        body=(
            "Visitamos a obra com moradores do bairro. A praça foi entregue com piso novo, "
            "iluminação e parquinho; falta a academia a céu aberto, prometida para o mês que vem."
        ),
        show_author_name=False,
        photos=[(demo_photo(f"{work.code} Comforça", "done"), "Ilustração: a praça entregue")],
    )
    reports.approve(published.id, actor)
    reports.submit_report(
        monitor,
        work,
        body="Os bancos perto do parquinho já precisam de manutenção.",
        show_author_name=True,
    )


def load_works_evidence(slug: str, actor, today: date) -> str:
    """Milestones, money and photos for each selected work of `slug` that has none yet; the
    Comforça member and their reports with the first work of their region."""
    if actor is None:
        return "Works: no demo admin to record them."
    followed = [work for work in _works(slug) if not _has_milestones(work)]
    for work in followed:
        _follow(work, actor, today)
    reported = [w for w in followed if w.region is not None and w.region.slug == MONITOR_REGION][:1]
    for work in reported:
        _reports(actor, work)
    lines = [f"Works of {slug}: {len(followed)} followed (milestones, money, photos)"]
    if reported:
        lines.append(
            f"Comforça member {MONITOR.email} password: {MONITOR.password} "
            f"(one report published, one waiting)"
        )
    return "; ".join(lines)
