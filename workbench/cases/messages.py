"""What the case pages say for each ``WorkflowError`` code: stable codes → msgids (the English
text of ``WorkflowError`` is for logs and tests)."""

from __future__ import annotations

from typing import Any

from workbench.i18n import N_

MESSAGES = {
    "forbidden": N_("Your role does not allow this step."),
    "excluded": N_("You are not among the people who may open this case: you declared a "
                   "conflict of interest on it, or a lead assigned it to others."),
    "recused": N_("A member who declared a conflict of interest on this case cannot be "
                  "assigned to it."),
    "bad_state": N_("The case is not at a step where this can be done."),
    "not_found": N_("Not found."),
    "bad_input": N_("Some of the input is not valid."),
    "bad_date": N_("Give dates as YYYY-MM-DD."),
    "too_long": N_("A text is too long."),
    "what_required": N_("Say what happened."),
    "bad_category": N_("Unknown category."),
    "bad_channel": N_("Choose the channel the complaint came through."),
    "future_day": N_("The day received is in the future."),
    "bad_related": N_("No case with that number (or it is this case)."),
    "review_incomplete": N_("Submitting the review needs a category and darwas / non-darwas."),
    "bad_decision": N_("Unknown decision."),
    "retaliation_unanswered": N_("Answer the reporter first (a message or question on the "
                                 "case page): the policy promises a response through the "
                                 "follow-up page."),
    "confirm_disposal": N_("Tick the box that confirms the disposal: it cannot be undone."),
    "retention": N_("The case is still within its retention period."),
    "archive_unverified": N_("A report is archived for lack of evidence only after the "
                             "reporter was asked for more: decide on clarification first, "
                             "and archive after the verification's finding."),
    "reason_required": N_("Write the reason down."),
    "bad_outcome": N_("Choose an outcome."),
    "no_channel": N_("This complaint came off-line: there is no channel to the reporter. "
                     "Record the contact as a note."),
    "text_required": N_("The text is empty."),
    "outbox": N_("The question could not be queued."),
    "escrow": N_("The request to open the identity could not be made: choose a deposit of this "
                 "case and write the reason (at least 10 characters)."),
    "file_out": N_("The file is already lent and not back yet."),
    "locked": N_("This needs the vault key, which your session does not hold."),
    "forward_state": N_("Only a case the lead decided to forward can be forwarded."),
    "no_agency": N_("Choose an enrolled agency."),
    "gpg": N_("GnuPG could not encrypt to that key."),
    "bad_key": N_("The key file must hold exactly one OpenPGP public key."),
    "duplicate_key": N_("That key is already enrolled."),
    "preview": N_("This file cannot be previewed. Export it and open it on a safe machine."),
    "safecopy": N_("No safe copy could be made of this file: it is not a PDF, Office document, "
                   "image or text file, or it is damaged, hostile or beyond the sandbox's "
                   "limits. Do not open it on this machine."),
    "scrub": N_("A ticked file could not be cleaned of its hidden data (damaged, encrypted or "
                "too large), so nothing was forwarded. Untick it, or forward a cleaned copy."),
    "safecopy_forward": N_("No safe copy could be made of a ticked file (it is not a PDF, Office "
                           "document, image or text file, or it is damaged, hostile or beyond "
                           "the sandbox's limits), so nothing was forwarded. Untick it, or "
                           "choose to send its original."),
    "no_safe_copy": N_("Make a safe copy of this file first: redaction works on the safe copy."),
    "bad_region": N_("That region is not on the page. Give the edges in percent, 0 to 100."),
}


def message(request: Any, code: str) -> str:
    """The message of ``code`` in the request's language (an unknown code: bad input)."""
    return request.gettext(MESSAGES.get(code, MESSAGES["bad_input"]))
