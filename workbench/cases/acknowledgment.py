"""The standard acknowledgment message: what "acknowledgment sent" means (policies.clocks, the
acknowledgment service target). Recording the acknowledgment of a web report queues this text,
through the same outbox as a verifier's message, so the reporter reads it on the follow-up page
after the next reply bundle; an off-line complaint (letter, walk-in) has no such channel and the
acknowledgment is recorded as done by its own means (a letter, a call).

The reporter's language is not known on the workbench (the form does not record it), so the
message carries Indonesian first, then English."""

from __future__ import annotations

from peluit.ground.i18n import translations
from policies.calendar import DeadlinePolicy
from workbench.i18n import N_

MESSAGE = N_(
    "Your report has been received and is being reviewed. Within %(decision)s working days of "
    "receipt it is reviewed and the Inspector General decides the next step: clarification with "
    "you, an audit or investigation, referral to the competent authority, or not to follow it "
    "up. The follow-up is targeted to be finished within %(completion)s working days of receipt. "
    "Questions and messages from the team will appear here: come back with your codename. This "
    "is a standard message.")
LANGUAGES = ("id", "en")


def text(policy: DeadlinePolicy) -> str:
    """The message in both languages, with the deployment's own service targets."""
    values = {"decision": policy.verify_days, "completion": policy.complete_days}
    return "\n\n".join(translations("workbench", "workbench", lang).gettext(MESSAGE) % values
                       for lang in LANGUAGES)
