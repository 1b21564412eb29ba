"""The record of processing activities (LGPD art. 37), as data.

Every table of the app appears here, in the `tables` of an activity that holds personal data or
in `WITHOUT_PERSONAL_DATA`, and tests/test_privacy.py walks `db.metadata.tables` to keep it so:
a new table cannot go unmentioned in the notice. Texts are lazy translations (English source,
Portuguese for citizens); `as_dicts` turns them into plain strings in the current language.

State retention as the code applies it today, never as it is planned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

# The legal bases used below (Lei 13.709/2018).
PUBLIC_POLICY = _l(
    "Carrying out public policies (LGPD art. 7, III, and art. 23: processing by a public body "
    "for its legal duties): the city's participatory budget."
)
CONSENT = _l("Consent (LGPD art. 7, I): given by the person, who may withdraw it.")
LEGITIMATE_SECURITY = _l(
    "Carrying out public policies (LGPD art. 7, III, and art. 23), including keeping the service "
    "secure and accountable (LGPD art. 6, VII and X)."
)

LEGAL_OBLIGATION = _l(
    "Compliance with a legal obligation (LGPD art. 7, II): answering the rights the LGPD gives "
    "data subjects (art. 18)."
)

NOBODY = _l("Nobody outside the city's staff.")


@dataclass(frozen=True)
class Activity:
    """One processing activity: a kind of personal data, what for, and what becomes of it."""

    key: str
    name: str
    data: tuple[str, ...]
    subjects: str
    purpose: str
    legal_basis: tuple[str, ...]
    retention: str
    shared_with: str
    # Where it lives: database tables, and other stores ("browser cookie", "web server log").
    tables: tuple[str, ...] = ()
    stores: tuple[str, ...] = ()
    # Settings (opdigital/settings.py) that change the retention, when there are any.
    retention_settings: tuple[str, ...] = field(default=())


ACTIVITIES: tuple[Activity, ...] = (
    Activity(
        key="roll",
        name=_l("Electoral roll"),
        data=(
            _l(
                "A keyed hash (HMAC-SHA-256 with a secret pepper) of the voter registration "
                "number (título) or of the school and enrolment number; never the number itself"
            ),
            _l("Birth date"),
            _l("Region of residence, or school (OPCA)"),
        ),
        subjects=_l("Citizens on the roll imported for a cycle"),
        purpose=_l(
            "Checking that a person may vote in a cycle (registered, of the right age and "
            "region) and that nobody votes twice."
        ),
        legal_basis=(PUBLIC_POLICY,),
        retention=_l(
            "Deleted by `opdigital retention run` a set number of days after the cycle's tally "
            "(the city roll once every cycle using it is tallied), or at once by `opdigital "
            "registry purge`; only the number of people on the roll per region is kept."
        ),
        retention_settings=("ROLL_RETENTION_DAYS_AFTER_TALLY",),
        shared_with=NOBODY,
        tables=("registry_entry",),
    ),
    Activity(
        key="participation",
        name=_l("Who voted"),
        data=(
            _l("The voter's keyed hash, as on the roll"),
            _l("The day of the vote (never the time)"),
            _l("Region, and the voting point where the vote was taken, if any"),
            _l(
                "Whether a poll worker identified the voter from a document (never which one), "
                "and whether the vote was on paper"
            ),
        ),
        subjects=_l("Citizens who voted"),
        purpose=_l(
            "One vote per citizen, and turnout by day, region and voting point. Nothing links "
            "this list to any ballot."
        ),
        legal_basis=(PUBLIC_POLICY,),
        retention=_l(
            "Kept: the database refuses changes and deletions of this list, the proof that "
            "nobody voted twice. Once the roll is deleted its keyed hashes can no longer be "
            "matched with a person on the roll; they remain pseudonymous, not anonymous."
        ),
        shared_with=_l("Nobody. Only turnout totals are published."),
        tables=("participation",),
    ),
    Activity(
        key="ballots",
        name=_l("Secret ballots and the tally"),
        data=(
            _l("The works chosen, with the hash of the receipt code; no link to any voter"),
            _l("Paper sheets: serial number and choices, never who filled them in"),
        ),
        subjects=_l("Nobody can be identified: ballots are anonymous"),
        purpose=_l("Counting the vote and letting anyone verify the count."),
        legal_basis=(PUBLIC_POLICY,),
        retention=_l("Kept for good: the public board and the signed tally are the vote's record."),
        shared_with=_l("The public: the ballot board, the results and the signed tally package."),
        tables=(
            "ballot",
            "board_entry",
            "board_head",
            "tally",
            "turnout_count",
            "paper_batch",
            "paper_entry_sheet",
            "paper_sheet",
            "paper_sheet_run",
        ),
    ),
    Activity(
        key="proposal_contact",
        name=_l("Proposers' names and contacts"),
        data=(
            _l("The author's name, if given (published with the proposal)"),
            _l("A contact (e-mail or phone), seen by city staff only"),
        ),
        subjects=_l("People who submit a proposal"),
        purpose=_l(
            "Showing who proposed a work, when they chose to give a name, and letting city staff "
            "reach the proposer about the proposal."
        ),
        legal_basis=(PUBLIC_POLICY, CONSENT),
        retention=_l(
            "The contact is erased by `opdigital retention run` a set number of days after the "
            "cycle's last phase ends; the proposal and the author's name stay public."
        ),
        retention_settings=("PROPOSER_CONTACT_RETENTION_DAYS",),
        shared_with=_l(
            "The public sees the proposal and the author's name; the contact is never published "
            "nor given to anyone."
        ),
        tables=("proposal", "proposal_history"),
    ),
    Activity(
        key="proposer_emails",
        name=_l("E-mails to proposers"),
        data=(
            _l("The proposer's consent to e-mails about the proposal: when given or withdrawn"),
            _l("Each message: the e-mail address, the text, when it was sent"),
        ),
        subjects=_l("People who submit a proposal and ask to be told what becomes of it"),
        purpose=_l(
            "Telling the proposer when the proposal is accepted or rejected, put on the ballot, "
            "selected, and as its works move."
        ),
        legal_basis=(CONSENT,),
        retention=_l(
            "Only while consent lasts: the link in every message withdraws it, without signing "
            "in. A sent message's address and text are erased by `opdigital retention run` a "
            "set number of days after sending."
        ),
        retention_settings=("OUTBOX_RETENTION_DAYS",),
        shared_with=_l("The city's mail server, which delivers the messages; nobody else."),
        tables=("proposal", "outbox_message"),
    ),
    Activity(
        key="subject_requests",
        name=_l("Data-subject requests"),
        data=(
            _l("What the person asks for, the e-mail or phone they give, and their message"),
            _l(
                "A keyed hash of the confirmation code sent to them, and when the request was "
                "made, confirmed and answered"
            ),
            _l("What was done (proposal codes and counts only); never the text of the answer"),
        ),
        subjects=_l("People who ask to see, correct, anonymise or delete their data"),
        purpose=_l(
            "Answering the rights of LGPD art. 18 within the legal deadline, after checking that "
            "the request comes from the owner of the contact."
        ),
        legal_basis=(LEGAL_OBLIGATION,),
        retention=_l(
            "The contact and the message are erased as soon as the request is answered; the "
            "request's reference, kind, dates and what was done are kept as the record of the "
            "answer. A request never confirmed is deleted by `opdigital retention run` a day "
            "after it was made (for a phone number, once the answer deadline has passed). The "
            "code and the answer e-mails are erased as soon as they are sent."
        ),
        retention_settings=("SUBJECT_REQUEST_DEADLINE_DAYS",),
        shared_with=_l("The city's mail server, which delivers the messages; nobody else."),
        tables=("subject_request", "outbox_message"),
    ),
    Activity(
        key="staff_accounts",
        name=_l("Staff accounts"),
        data=(
            _l("Name and e-mail address"),
            _l("Password hash (argon2id; the password itself is never kept)"),
            _l("Role, and when the account was created and last signed in"),
            _l("A random session token"),
        ),
        subjects=_l("City staff: administrators, coordinators, auditors, the privacy officer"),
        purpose=_l("Signing in to the staff screens and knowing who may do what."),
        legal_basis=(PUBLIC_POLICY,),
        retention=_l(
            "Kept while the account exists; deactivated accounts are kept, as the audit log "
            "names them (no automatic deletion rule)."
        ),
        shared_with=NOBODY,
        tables=("user_account",),
    ),
    Activity(
        key="poll_workers",
        name=_l("Poll workers"),
        data=(
            _l("Name and e-mail address"),
            _l("Password hash (argon2id; the password itself is never kept)"),
            _l("Their voting point and cycle, and when the point was opened and closed"),
            _l("Who printed paper sheets and typed in paper ballots (the staff account)"),
        ),
        subjects=_l("Poll workers (mesários)"),
        purpose=_l("Running voting points: opening them, identifying voters, paper ballots."),
        legal_basis=(PUBLIC_POLICY,),
        retention=_l(
            "Kept while the account exists; deactivated accounts are kept, as the audit log "
            "names them (no automatic deletion rule)."
        ),
        shared_with=NOBODY,
        tables=("user_account", "point_opening", "paper_entry", "paper_sheet_run", "paper_batch"),
    ),
    Activity(
        key="audit_log",
        name=_l("Audit log of staff actions"),
        data=(
            _l("Which staff account did what, to which record, when"),
            _l("The values changed (e.g. a delegate's name, a new account's e-mail)"),
            _l("The IP address of the request"),
        ),
        subjects=_l("City staff, and people named in the records they change"),
        purpose=_l("Accountability: anyone's action on the programme can be checked by auditors."),
        legal_basis=(LEGITIMATE_SECURITY,),
        retention=_l(
            "Kept for good: the database refuses changes and deletions of the log. It holds no "
            "vote and no proposer contact."
        ),
        shared_with=_l("The city's auditors (staff accounts with the auditor role)."),
        tables=("audit_entry",),
    ),
    Activity(
        key="delegates",
        name=_l("Delegates and Comforça members"),
        data=(
            _l("Name, role (delegate, substitute, Comforça member), region, school and seat"),
            _l("A keyed hash of their voting code, and when it was issued"),
        ),
        subjects=_l("Delegates, substitutes and Comforça members elected in assemblies"),
        purpose=_l("The delegates' vote, and publishing who represents each region."),
        legal_basis=(PUBLIC_POLICY,),
        retention=_l(
            "Kept with the cycle; staff may remove an entry (no automatic deletion rule)."
        ),
        shared_with=_l("The public sees the Comforça members' names and regions."),
        tables=("delegate",),
    ),
    Activity(
        key="monitoring",
        name=_l("Monitoring of the works"),
        data=(
            _l("Comforça members' accounts: name, e-mail, password hash (argon2id), their region"),
            _l(
                "Their reports on the works, with the author's name only when they chose to "
                "publish it, and who approved or refused each report"
            ),
            _l(
                "Photos of the works, stored without any metadata (no location, no camera "
                "details); people may appear in them"
            ),
        ),
        subjects=_l("Members of the monitoring commissions (Comforça); people in photos"),
        purpose=_l("Following in public the works the programme chose, and their execution."),
        legal_basis=(PUBLIC_POLICY,),
        retention=_l(
            "Kept with the work as the public record of its execution; staff may remove a photo "
            "or a report (no automatic deletion rule)."
        ),
        shared_with=_l(
            "The public sees approved reports (with the author's role, and the name if chosen) "
            "and the photos."
        ),
        tables=("user_account", "monitoring_report", "work_photo"),
    ),
    Activity(
        key="phone_votes",
        name=_l("Voting by phone and text message"),
        data=(
            _l(
                "While a call or a text conversation lasts, its step, encrypted: the keyed hash "
                "of the título between the título and the birth date, then the voter key and "
                "the choices until the vote is cast, then the receipt code for a few minutes"
            ),
            _l(
                "The caller's number, reduced at once to a keyed hash that counts attempts "
                "against guessing; the number itself is never stored"
            ),
        ),
        subjects=_l("Citizens who vote by phone or by text message"),
        purpose=_l("Letting citizens vote by a free call or by text, with the web's rules."),
        legal_basis=(PUBLIC_POLICY,),
        retention=_l(
            "A conversation is deleted when it ends, or a set number of minutes after the "
            "last key pressed; attempt counters expire within a day. The vote itself is kept "
            "as any other, with no link to the number."
        ),
        retention_settings=("PHONE_CONVERSATION_MINUTES",),
        shared_with=_l(
            "The telephony provider, under contract with the city, carries the calls and "
            "messages: it sees the number, the keys pressed and the texts, as any phone "
            "company would."
        ),
        tables=("phone_conversation",),
        stores=(_l("Telephony provider"),),
    ),
    Activity(
        key="kiosk_device",
        name=_l("Kiosk device cookie"),
        data=(
            _l(
                "On an enrolled kiosk only: a signed cookie with the device's number and secret "
                "(only a hash of the secret is kept), who enrolled it and when"
            ),
        ),
        subjects=_l("Voting point devices; the staff member who enrolled them"),
        purpose=_l("Recognising a voting point's kiosk. It says nothing about the voters."),
        legal_basis=(PUBLIC_POLICY,),
        retention=_l("The cookie lasts 400 days; the device record is kept after revocation."),
        shared_with=NOBODY,
        tables=("kiosk_device",),
        stores=(_l("Browser cookie (essential)"),),
    ),
    Activity(
        key="session_cookie",
        name=_l("Session cookie"),
        data=(
            _l(
                "Your language choice, the security token of forms, the staff sign-in, and, "
                "while you vote, your place in the vote (encrypted)"
            ),
        ),
        subjects=_l("Every visitor"),
        purpose=_l("Making the site work: forms, language, signing in and voting."),
        legal_basis=(PUBLIC_POLICY,),
        retention=_l(
            "Kept in your browser until you close it; a vote in progress is forgotten after "
            "20 minutes (10 on a kiosk). Nothing of it is stored on the server."
        ),
        shared_with=NOBODY,
        stores=(_l("Browser cookie (essential)"),),
    ),
    Activity(
        key="map_tiles",
        name=_l("Map tiles"),
        data=(
            _l(
                "When a page shows a map and JavaScript is on, your browser asks the map tile "
                "server for the map's images: that server receives your IP address, your "
                "browser's name and this site's address (never the page's address)"
            ),
        ),
        subjects=_l("Visitors who open a page with a map"),
        purpose=_l("Drawing the map under the proposals and works."),
        legal_basis=(PUBLIC_POLICY,),
        retention=_l(
            "As the tile server's operator keeps its logs; this site keeps nothing of it. "
            "Without JavaScript no tile is asked for: the page draws its own outline map."
        ),
        retention_settings=("MAP_TILE_URL",),
        shared_with=_l("The map tile server set by the city (OpenStreetMap's by default)."),
        stores=(_l("The tile server's logs"),),
    ),
    Activity(
        key="server_logs",
        name=_l("Server logs and abuse limits"),
        data=(
            _l("The web server's access log: IP address, time, page asked for and browser"),
            _l(
                "Counters against abuse: keyed hashes of the IP address and of the credential "
                "typed, never the address or number itself"
            ),
        ),
        subjects=_l("Every visitor"),
        purpose=_l("Keeping the service running and secure, and stopping attacks."),
        legal_basis=(LEGITIMATE_SECURITY,),
        retention=_l(
            "Access logs: as the host's log rotation keeps them. Counters expire with their "
            "window (at most 30 days). The application itself keeps no access log."
        ),
        shared_with=NOBODY,
        stores=(_l("Web server log"), _l("Redis counters")),
    ),
)

# Tables that hold nothing about any person, and why.
WITHOUT_PERSONAL_DATA: Mapping[str, str] = {
    "cycle": _l("The cycles of the programme"),
    "phase": _l("A cycle's calendar"),
    "event": _l("A cycle's meetings and events"),
    "region_budget": _l("A cycle's budget per region"),
    "region": _l("The city's regions"),
    "school": _l("Municipal schools"),
    "voting_point": _l("Voting points: name, region and network addresses"),
    "roll_count": _l("How many people a deleted roll held, per region or school"),
    "work_milestone": _l("The planned and actual dates of a work's steps"),
}

RIGHTS: tuple[str, ...] = (
    _l("Confirmation that we process data about you, and access to it (LGPD art. 18, I and II)"),
    _l("Correction of incomplete, inaccurate or out-of-date data (art. 18, III)"),
    _l(
        "Anonymisation, blocking or deletion of unnecessary or excessive data, or data processed "
        "against the law (art. 18, IV)"
    ),
    _l("Information about the public and private bodies we share data with (art. 18, VII)"),
    _l("Withdrawal of consent, where consent is the basis (art. 18, IX)"),
    _l("Complaint to the ANPD, the national data protection authority (art. 18, § 1)"),
)


def activity(key: str) -> Activity:
    """The activity called `key` (KeyError when there is none)."""
    for candidate in ACTIVITIES:
        if candidate.key == key:
            return candidate
    raise KeyError(key)


def covered_tables() -> set[str]:
    """Every table named by an activity or listed as holding no personal data."""
    named = {table for a in ACTIVITIES for table in a.tables}
    return named | set(WITHOUT_PERSONAL_DATA)


def as_dicts() -> list[dict]:
    """The activities as plain JSON-ready dicts, texts in the current language."""
    return [
        {
            "key": a.key,
            "name": str(a.name),
            "data": [str(item) for item in a.data],
            "subjects": str(a.subjects),
            "purpose": str(a.purpose),
            "legal_basis": [str(basis) for basis in a.legal_basis],
            "retention": str(a.retention),
            "retention_settings": list(a.retention_settings),
            "shared_with": str(a.shared_with),
            "tables": list(a.tables),
            "stores": [str(store) for store in a.stores],
        }
        for a in ACTIVITIES
    ]


def controller(config: Mapping) -> dict:
    """The controller and the encarregado, from the settings."""
    return {
        "controller": {
            "name": config["PRIVACY_CONTROLLER_NAME"],
            "contact": config["PRIVACY_CONTROLLER_CONTACT"],
        },
        "officer": {
            "name": config["PRIVACY_OFFICER_NAME"],
            "email": config["PRIVACY_OFFICER_EMAIL"],
            "phone": config.get("PRIVACY_OFFICER_PHONE") or "",
        },
    }


def document(config: Mapping) -> dict:
    """The whole record: controller, encarregado, activities, tables without personal data."""
    return controller(config) | {
        "activities": as_dicts(),
        "without_personal_data": {table: str(why) for table, why in WITHOUT_PERSONAL_DATA.items()},
        "rights": [str(right) for right in RIGHTS],
    }
