"""The server database. Every table holds only what the server may know: random ids, public
keys, padded sizes and dates at day granularity (``YYYY-MM-DD`` strings). No IP, no user agent,
no time finer than a day for anything a reporter did.

Importing this package registers every model on ``Base.metadata`` (Alembic compares against it).
"""

from .auditors import AuditorCard
from .base import Base, new_id
from .gateway import (
    AdminLogHead,
    AdminLogRow,
    BundleSequence,
    GatewaySession,
    GatewayUser,
    ServerKeyRecord,
)
from .loginfailures import LoginFailureDay
from .receipts import AnswerReceipt
from .reporters import Report, Reporter
from .sessions import ReporterSession
from .submissions import Reply, Submission, SubmissionAck
from .throttles import Throttle, UsedToken

# The coarse statuses a reporter may see; a closed case says how it ended (finished here,
# forwarded, handled with another report, archived, not followed up), never what was found.
STATUSES = ("received", "verification", "forwarded", "investigation", "finished", "duplicate",
            "archived", "not_processed")
# What a submission may be; the kind travels only inside its envelope's sealed metadata. The
# database row and the inbox manifest show the one kind ROW_KIND for all of them, so a seized
# server cannot tell a retaliation report or a file from any other submission.
SUBMISSION_KINDS = ("report", "message", "file", "retaliation")
ROW_KIND = "submission"
REPLY_KINDS = ("question", "message")

__all__ = [
    "REPLY_KINDS",
    "ROW_KIND",
    "STATUSES",
    "SUBMISSION_KINDS",
    "AdminLogHead",
    "AdminLogRow",
    "AnswerReceipt",
    "AuditorCard",
    "Base",
    "BundleSequence",
    "GatewaySession",
    "GatewayUser",
    "LoginFailureDay",
    "Reply",
    "Report",
    "Reporter",
    "ReporterSession",
    "ServerKeyRecord",
    "Submission",
    "SubmissionAck",
    "Throttle",
    "UsedToken",
    "new_id",
]
