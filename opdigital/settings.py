"""Settings classes read from the environment.

`load_config(name)` picks a class by name ("development", "testing", "production"); the
`OPDIGITAL_CONFIG` environment variable chooses it when `create_app()` gets none. Every
variable production reads is listed, with its default, in config/opdigital.env.example.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from opdigital.resources import PACKAGE_DIR, instance_dir

DEFAULT_SECRET_KEY = "dev-only-secret-key-change-me"  # noqa: S105 - refused in production
DEFAULT_PEPPER = "dev-only-pepper-change-me"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_bool(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = _env(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise RuntimeError(f"{name} must be a whole number, not {value!r}") from None


def _sqlalchemy_url(url: str | None) -> str | None:
    """Use psycopg 3 for plain postgres URLs (Heroku-style `postgres://` too)."""
    if url is None:
        return None
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Base:
    """Settings shared by every environment."""

    # Which settings class this is, for code that must behave differently in production
    # (`opdigital demo` refuses to run there).
    CONFIG_NAME = "base"
    SECRET_KEY = _env("SECRET_KEY", DEFAULT_SECRET_KEY)
    # Keyed hash pepper for voter keys (docs/security.md, "One vote per citizen").
    VOTER_KEY_PEPPER = _env("VOTER_KEY_PEPPER", DEFAULT_PEPPER)
    SQLALCHEMY_DATABASE_URI = _sqlalchemy_url(_env("DATABASE_URL"))
    # hide_parameters: even with SQL logging switched on, values (voter keys, choices) never
    # reach a log line, so no log can link a voter to a ballot.
    # No pre-ping: it would cost every request a round trip. A connection lost to a database
    # restart fails its request with a clean 503 (errors.py), SQLAlchemy then discards the
    # whole pool, and the next request connects afresh.
    # skip_autocommit_rollback: the cast's autocommit connection has nothing to roll back.
    SQLALCHEMY_ENGINE_OPTIONS = {
        "pool_pre_ping": False,
        "hide_parameters": True,
        "skip_autocommit_rollback": True,
    }
    REDIS_URL = _env("REDIS_URL")

    TIMEZONE = "America/Sao_Paulo"
    BABEL_DEFAULT_LOCALE = "pt_BR"
    BABEL_DEFAULT_TIMEZONE = "America/Sao_Paulo"
    BABEL_TRANSLATION_DIRECTORIES = str(PACKAGE_DIR / "translations")
    LANGUAGES = {"pt_BR": "Português", "en": "English"}
    # Outside a web request (the `opdigital` command, scripts): the operators' tool is English.
    CLI_LOCALE = "en"

    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    # Number of reverse proxies in front of the app whose X-Forwarded-* headers are trusted;
    # rate limits per IP and absolute URLs (calendar feeds) depend on it. 0 = none.
    PROXY_COUNT = _env_int("PROXY_COUNT", 0)

    # Rate limits (Flask-Limiter syntax), overridable from the environment.
    RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", True)
    RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI") or _env("REDIS_URL") or "memory://"
    RATELIMIT_KEY_PREFIX = _env("RATELIMIT_KEY_PREFIX", "opdigital")
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # No X-RateLimit-* headers on every answer: they cost a store round trip per request on
    # the vote's hot path. A 429 still says when to retry (Retry-After, see errors.py).
    RATELIMIT_HEADERS_ENABLED = False
    RATELIMIT_SWALLOW_ERRORS = True
    # Per-address limits count an IPv6 client by its network of this prefix length (one home
    # or phone gets a whole /64), an IPv4 client by its address.
    IPV6_PREFIX_LENGTH = _env_int("IPV6_PREFIX_LENGTH", 64)
    LOGIN_LIMIT_PER_IP = _env("LOGIN_LIMIT_PER_IP", "20 per 15 minutes")
    # Failed sign-ins (docs/security.md, "Failed identifications"): per address and account,
    # and per account from anywhere, a ceiling no one reaches by mistake. A correct password
    # from an address that has not itself been failing is accepted up to that ceiling.
    LOGIN_FAILURES_PER_ADDRESS_AND_ACCOUNT = _env(
        "LOGIN_FAILURES_PER_ADDRESS_AND_ACCOUNT", "5 per 15 minutes; 20 per day"
    )
    LOGIN_FAILURES_PER_ACCOUNT = _env("LOGIN_FAILURES_PER_ACCOUNT", "100 per hour")
    PROPOSAL_SUBMIT_LIMIT_PER_IP = _env("PROPOSAL_SUBMIT_LIMIT_PER_IP", "10 per hour")
    # Voting: identification and casting, per client address; a registered public voting point
    # serves many voters from one address, so it gets its own, higher limit.
    VOTE_LIMIT_PER_IP = _env("VOTE_LIMIT_PER_IP", "30 per minute")
    VOTE_LIMIT_PER_VOTING_POINT = _env("VOTE_LIMIT_PER_VOTING_POINT", "600 per minute")
    # Failed identifications (wrong birth date, unknown título...; docs/security.md, "Failed
    # identifications"). Per client (address or voting point) and credential; per client, any
    # credential; and per credential from anywhere: the city-wide ceiling, far above a real
    # voter's mistakes, past which the credential is paused online (voting points excepted).
    VOTER_FAILURES_PER_CLIENT_AND_CREDENTIAL = _env(
        "VOTER_FAILURES_PER_CLIENT_AND_CREDENTIAL", "5 per 15 minutes; 10 per day; 30 per 30 days"
    )
    VOTER_FAILURES_PER_ADDRESS = _env("VOTER_FAILURES_PER_ADDRESS", "20 per hour; 50 per day")
    VOTER_FAILURES_PER_VOTING_POINT = _env(
        "VOTER_FAILURES_PER_VOTING_POINT", "300 per hour; 1000 per day"
    )
    VOTER_FAILURES_PER_CREDENTIAL = _env(
        "VOTER_FAILURES_PER_CREDENTIAL", "50 per day; 100 per 30 days"
    )
    # Receipt lookups per client address (receipt codes cannot be guessed; this stops scraping).
    RECEIPT_LOOKUP_LIMIT_PER_IP = _env("RECEIPT_LOOKUP_LIMIT_PER_IP", "60 per minute")
    # Reads of the board's head (JSON) per client address: observers poll it during the vote.
    BOARD_HEAD_LIMIT_PER_IP = _env("BOARD_HEAD_LIMIT_PER_IP", "120 per minute")
    # Casts through the API are served by a lean WSGI layer in front of Flask (opdigital/api/
    # direct_cast.py), same checks and answers; off, the Flask view serves them all.
    DIRECT_CAST = _env_bool("DIRECT_CAST", True)
    # Ballot board sealing (opdigital/board/services.py): ballots are sealed in random order in
    # batches of this many, or when the last sealing is this old. A larger batch hides the
    # voting order better; the delay bounds how long a receipt waits to be on the board. A
    # sealing has a fixed cost too (its own transaction, a few round trips): at 1,000 votes/s,
    # batches of 256 saved about 0.2 ms of CPU per vote over batches of 32.
    BOARD_BATCH_SIZE = int(_env("BOARD_BATCH_SIZE", "256"))
    BOARD_MAX_DELAY_SECONDS = int(_env("BOARD_MAX_DELAY_SECONDS", "60"))
    # Fewer waiting ballots than this are never sealed, however long they wait, except when
    # the vote closes and before a tally: a ballot cast in a quiet hour is hidden among at
    # least this many (docs/security.md, "What sealing gives secrecy").
    BOARD_MIN_BATCH = int(_env("BOARD_MIN_BATCH", "32"))
    # The Ed25519 key that signs tally packages (`opdigital keys generate` creates it).
    SIGNING_KEY_PATH = _env("SIGNING_KEY_PATH") or str(instance_dir() / "signing-key.pem")

    # Retention (opdigital/retention; docs/data-model.md, "Retention"), applied by
    # `opdigital retention run`: a tallied cycle's roll is purged this many days after its tally
    # (its eligible counts are kept), and proposers' contacts are blanked this many days after
    # the end of their cycle's calendar (its last phase's end).
    ROLL_RETENTION_DAYS_AFTER_TALLY = _env_int("ROLL_RETENTION_DAYS_AFTER_TALLY", 30)
    PROPOSER_CONTACT_RETENTION_DAYS = _env_int("PROPOSER_CONTACT_RETENTION_DAYS", 365)
    # A poll worker's session on a shared device ends after this long without a request.
    POLL_WORKER_IDLE_MINUTES = _env_int("POLL_WORKER_IDLE_MINUTES", 15)

    # The privacy notice (/privacidade, docs/privacy.md): the controller (the city body
    # responsible for the data) and its encarregado (data protection officer, LGPD art. 41).
    # Production refuses to start without them; the phone is optional.
    PRIVACY_CONTROLLER_NAME = _env("PRIVACY_CONTROLLER_NAME")
    PRIVACY_CONTROLLER_CONTACT = _env("PRIVACY_CONTROLLER_CONTACT")
    PRIVACY_OFFICER_NAME = _env("PRIVACY_OFFICER_NAME")
    PRIVACY_OFFICER_EMAIL = _env("PRIVACY_OFFICER_EMAIL")
    PRIVACY_OFFICER_PHONE = _env("PRIVACY_OFFICER_PHONE", "")

    # The address citizens reach the site at, for the links in e-mails (written by background
    # commands, outside any web request). Production requires an https:// address.
    PUBLIC_BASE_URL = _env("PUBLIC_BASE_URL", "http://localhost:5000")

    # Outgoing mail (opdigital/mail; docs/deploy.md, "Mail"): Flask-Mailman's SMTP settings.
    # Requests only queue messages (the outbox table); `opdigital mail send` delivers them,
    # retrying a failed delivery with growing delays up to MAIL_MAX_ATTEMPTS times.
    MAIL_SERVER = _env("MAIL_SERVER", "localhost")
    MAIL_PORT = _env_int("MAIL_PORT", 25)
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", False)  # STARTTLS
    MAIL_USE_SSL = _env_bool("MAIL_USE_SSL", False)  # implicit TLS (port 465)
    MAIL_USERNAME = _env("MAIL_USERNAME")
    MAIL_PASSWORD = _env("MAIL_PASSWORD")
    MAIL_TIMEOUT = _env_int("MAIL_TIMEOUT", 10)
    MAIL_DEFAULT_SENDER = _env("MAIL_DEFAULT_SENDER", "OP Digital <nao-responda@localhost>")
    MAIL_MAX_ATTEMPTS = _env_int("MAIL_MAX_ATTEMPTS", 8)
    # A sent (or given up) message's address and text are erased this many days later.
    OUTBOX_RETENTION_DAYS = _env_int("OUTBOX_RETENTION_DAYS", 30)

    # Data-subject requests (opdigital/subject_requests): days the city has to answer a
    # verified request (LGPD art. 19, II: 15 days for a full statement of the data held).
    SUBJECT_REQUEST_DEADLINE_DAYS = _env_int("SUBJECT_REQUEST_DEADLINE_DAYS", 15)
    # The public request form (per client address), the code checks and new codes (per client
    # address), and new requests per contact: nobody can use the form to flood a third
    # party's mailbox (the contact is counted by its keyed hash, never stored in Redis).
    SUBJECT_REQUEST_LIMIT_PER_IP = _env("SUBJECT_REQUEST_LIMIT_PER_IP", "10 per hour")
    SUBJECT_REQUEST_CODE_LIMIT_PER_IP = _env("SUBJECT_REQUEST_CODE_LIMIT_PER_IP", "30 per hour")
    SUBJECT_REQUEST_LIMIT_PER_CONTACT = _env("SUBJECT_REQUEST_LIMIT_PER_CONTACT", "3 per day")

    # Maps (opdigital/geo): the tile server's URL template and its attribution. The CSP lets
    # pages load images from this origin and no other; the pages work without it too (a list
    # and a server-drawn outline of the regions).
    MAP_TILE_URL = _env("MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
    MAP_TILE_ATTRIBUTION = _env("MAP_TILE_ATTRIBUTION", "© OpenStreetMap contributors")
    # Work photos (opdigital/works): the largest upload taken, and the longer side of the
    # stored image (re-encoded as JPEG without metadata; a thumbnail is made as well).
    PHOTO_MAX_UPLOAD_MB = _env_int("PHOTO_MAX_UPLOAD_MB", 10)
    PHOTO_MAX_SIDE = _env_int("PHOTO_MAX_SIDE", 1600)

    # Voting by phone (opdigital/phone; docs/phone.md): the telephony provider's account (TwiML
    # webhooks, as Twilio and compatible providers send them). Without an auth token the
    # webhooks answer 404: every request must carry the provider's signature made with it.
    PHONE_ACCOUNT_SID = _env("PHONE_ACCOUNT_SID", "")
    PHONE_AUTH_TOKEN = _env("PHONE_AUTH_TOKEN", "")
    # The provider's REST API, for the receipt sent by text after a vote by voice.
    PHONE_API_BASE_URL = _env("PHONE_API_BASE_URL", "https://api.twilio.com")
    # The numbers citizens call and text, as shown on cycle pages and printed material
    # (e.g. "0800 123 4567"); the text number also sends the receipts (E.164, e.g. +5531...).
    PHONE_VOICE_NUMBER = _env("PHONE_VOICE_NUMBER", "")
    PHONE_TEXT_NUMBER = _env("PHONE_TEXT_NUMBER", "")
    # Recorded prompts (`opdigital phone prompts`): played instead of the provider's speech for
    # the fixed sentences when this folder holds them.
    PHONE_AUDIO_DIR = _env("PHONE_AUDIO_DIR", "")
    # The provider's voice for the spoken prompts (<Say voice=...>), e.g. "Polly.Camila" or
    # "Google.pt-BR-Standard-A" on Twilio; empty: the provider's default for pt-BR. The slower
    # speech option (SSML) needs a voice that takes SSML, as those do.
    PHONE_VOICE = _env("PHONE_VOICE", "")
    # A conversation idle this long is forgotten (its state deleted; the vote, if cast, stays).
    PHONE_CONVERSATION_MINUTES = _env_int("PHONE_CONVERSATION_MINUTES", 20)

    # Check at the first request of each process that PostgreSQL does not log statements with
    # their values for this app's role (opdigital/health/checks.py); /healthz reports it too.
    CHECK_DATABASE_LOGGING = True

    DEBUG = False
    TESTING = False


# Demonstration values for development and tests; production must set its own.
DEMO_PRIVACY = {
    "PRIVACY_CONTROLLER_NAME": "Prefeitura de Belo Horizonte (demonstration)",
    "PRIVACY_CONTROLLER_CONTACT": "Av. Afonso Pena, 1212, Centro · participe@pbh.gov.br",
    "PRIVACY_OFFICER_NAME": "Encarregado de dados (demonstration)",
    "PRIVACY_OFFICER_EMAIL": "encarregado@example.org",
}


class Development(Base):
    """`make run`: SQLite in the instance folder, in-process rate-limit store."""

    CONFIG_NAME = "development"
    PRIVACY_CONTROLLER_NAME = _env(
        "PRIVACY_CONTROLLER_NAME", DEMO_PRIVACY["PRIVACY_CONTROLLER_NAME"]
    )
    PRIVACY_CONTROLLER_CONTACT = _env(
        "PRIVACY_CONTROLLER_CONTACT", DEMO_PRIVACY["PRIVACY_CONTROLLER_CONTACT"]
    )
    PRIVACY_OFFICER_NAME = _env("PRIVACY_OFFICER_NAME", DEMO_PRIVACY["PRIVACY_OFFICER_NAME"])
    PRIVACY_OFFICER_EMAIL = _env("PRIVACY_OFFICER_EMAIL", DEMO_PRIVACY["PRIVACY_OFFICER_EMAIL"])
    DEBUG = _env_bool("FLASK_DEBUG", True)
    SQLALCHEMY_DATABASE_URI = _sqlalchemy_url(_env("DATABASE_URL")) or (
        "sqlite:///" + str(instance_dir() / "opdigital.sqlite3")
    )
    RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI") or _env("REDIS_URL") or "memory://"
    # `make mailsink` listens here and prints what it receives.
    MAIL_PORT = _env_int("MAIL_PORT", 8025)
    # The demo's phone line: `opdigital phone call op-digital-2026` plays a caller against
    # `make run` (signed with this token); the numbers are placeholders shown on the pages.
    PHONE_AUTH_TOKEN = _env("PHONE_AUTH_TOKEN", "development-phone-token")
    PHONE_VOICE_NUMBER = _env("PHONE_VOICE_NUMBER", "0800 000 0000")
    PHONE_TEXT_NUMBER = _env("PHONE_TEXT_NUMBER", "+55 31 90000-0000")
    # `make run` records the prompts here with espeak-ng (when installed).
    PHONE_AUDIO_DIR = _env("PHONE_AUDIO_DIR", str(instance_dir() / "phone-audio"))


class Testing(Base):
    """Tests: real PostgreSQL and Redis (docs/rationale.md, "Tests against real services")."""

    CONFIG_NAME = "testing"
    TESTING = True
    PRIVACY_CONTROLLER_NAME = DEMO_PRIVACY["PRIVACY_CONTROLLER_NAME"]
    PRIVACY_CONTROLLER_CONTACT = DEMO_PRIVACY["PRIVACY_CONTROLLER_CONTACT"]
    PRIVACY_OFFICER_NAME = DEMO_PRIVACY["PRIVACY_OFFICER_NAME"]
    PRIVACY_OFFICER_EMAIL = DEMO_PRIVACY["PRIVACY_OFFICER_EMAIL"]
    # Not on every test app's first request; the tests of the check turn it on.
    CHECK_DATABASE_LOGGING = False
    SECRET_KEY = "testing-secret-key"  # noqa: S105
    VOTER_KEY_PEPPER = "testing-pepper"
    SQLALCHEMY_DATABASE_URI = _sqlalchemy_url(
        _env("DATABASE_URL", "postgresql://root@127.0.0.1:5432/test")
    )
    REDIS_URL = _env("REDIS_URL", "redis://127.0.0.1:6379/0")
    RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI") or REDIS_URL
    # Never the project's own key: each test run gets one of its own (the demo creates it).
    SIGNING_KEY_PATH = _env("SIGNING_KEY_PATH") or str(
        Path(tempfile.gettempdir()) / f"opdigital-test-{os.getpid()}" / "signing-key.pem"
    )
    # App processes started by one test run share counters through this prefix (set in the
    # environment); a lone test process gets its own.
    RATELIMIT_KEY_PREFIX = _env("RATELIMIT_KEY_PREFIX") or f"opdigital-test-{os.getpid()}"


class Production(Base):
    """Gunicorn behind a proxy: refuses to start without its secrets."""

    CONFIG_NAME = "production"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    PREFERRED_URL_SCHEME = "https"

    @classmethod
    def validate(cls) -> None:
        problems = []
        if cls.SECRET_KEY in (None, DEFAULT_SECRET_KEY) or len(cls.SECRET_KEY or "") < 32:
            problems.append("SECRET_KEY must be set to a random value of 32+ characters")
        if cls.VOTER_KEY_PEPPER in (None, DEFAULT_PEPPER) or len(cls.VOTER_KEY_PEPPER or "") < 32:
            # The pepper is all that keeps a stolen table of voter keys from being matched
            # against the roll: it must be as hard to guess as the secret key.
            problems.append("VOTER_KEY_PEPPER must be set to a random value of 32+ characters")
        if not cls.SQLALCHEMY_DATABASE_URI:
            problems.append("DATABASE_URL must be set")
        if not cls.REDIS_URL:
            problems.append("REDIS_URL must be set")
        if not (cls.PUBLIC_BASE_URL or "").startswith("https://"):
            # Links in e-mails (unsubscribe, a request's page) must reach the real site.
            problems.append("PUBLIC_BASE_URL must be set to the site's https:// address")
        if "@localhost" in (cls.MAIL_DEFAULT_SENDER or "@localhost"):
            problems.append("MAIL_DEFAULT_SENDER must be set to the city's sending address")
        # The privacy notice names them (LGPD art. 41): a city cannot serve without them.
        for name in PRIVACY_REQUIRED:
            if not getattr(cls, name, None):
                problems.append(f"{name} must be set (the privacy notice names it)")
        if problems:
            raise RuntimeError("Refusing to start in production: " + "; ".join(problems))


PRIVACY_REQUIRED = (
    "PRIVACY_CONTROLLER_NAME",
    "PRIVACY_CONTROLLER_CONTACT",
    "PRIVACY_OFFICER_NAME",
    "PRIVACY_OFFICER_EMAIL",
)

CONFIGS = {"development": Development, "testing": Testing, "production": Production}


def load_config(name: str | None = None) -> type[Base]:
    """Return the settings class for `name` (or $OPDIGITAL_CONFIG, default development)."""
    name = (name or _env("OPDIGITAL_CONFIG", "development")).lower()
    try:
        config = CONFIGS[name]
    except KeyError:
        raise RuntimeError(
            f"Unknown configuration {name!r}; use one of {sorted(CONFIGS)}"
        ) from None
    validate = getattr(config, "validate", None)
    if validate:
        validate()
    return config
