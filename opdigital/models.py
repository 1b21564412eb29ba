"""Every model in one import, for Alembic and the shell."""

from opdigital.accounts.models import Role, User
from opdigital.audit.models import AuditEntry
from opdigital.board.models import BoardEntry, BoardHead
from opdigital.cycles.models import (
    BudgetSplit,
    Cycle,
    CycleKind,
    Event,
    EventKind,
    Phase,
    PhaseKind,
    RegionBudget,
)
from opdigital.cycles.states import CycleState
from opdigital.delegates.models import Delegate, DelegateRole, Seat
from opdigital.kiosk.models import KioskDevice
from opdigital.mail.models import OutboxMessage, OutboxStatus
from opdigital.paper.models import (
    PaperBatch,
    PaperEntry,
    PaperEntrySheet,
    PaperSheet,
    PaperSheetRun,
)
from opdigital.phone.models import PhoneConversation
from opdigital.polling.models import PointOpening
from opdigital.proposals.models import (
    ExecutionStatus,
    HistoryTrack,
    Proposal,
    ProposalHistory,
    ProposalOrigin,
    ProposalStatus,
)
from opdigital.regions.models import Region, School
from opdigital.registry.models import RegistryEntry
from opdigital.retention.models import RollCount
from opdigital.subject_requests.models import SubjectRequest
from opdigital.tally.models import Tally
from opdigital.voting.models import Ballot, Participation, TurnoutCount, VotingPoint
from opdigital.works.models import MonitoringReport, ReportStatus, WorkMilestone, WorkPhoto

__all__ = [
    "AuditEntry",
    "Ballot",
    "BoardEntry",
    "BoardHead",
    "Delegate",
    "DelegateRole",
    "Seat",
    "KioskDevice",
    "MonitoringReport",
    "ReportStatus",
    "WorkMilestone",
    "WorkPhoto",
    "OutboxMessage",
    "OutboxStatus",
    "PaperBatch",
    "PaperEntry",
    "PaperEntrySheet",
    "PaperSheet",
    "PaperSheetRun",
    "Participation",
    "PhoneConversation",
    "PointOpening",
    "RegistryEntry",
    "RollCount",
    "TurnoutCount",
    "VotingPoint",
    "BudgetSplit",
    "Cycle",
    "CycleKind",
    "CycleState",
    "Event",
    "EventKind",
    "ExecutionStatus",
    "HistoryTrack",
    "Phase",
    "PhaseKind",
    "Proposal",
    "ProposalHistory",
    "ProposalOrigin",
    "ProposalStatus",
    "Region",
    "RegionBudget",
    "Role",
    "School",
    "SubjectRequest",
    "Tally",
    "User",
]
