"""Message ids of the workbench catalog (``workbench/locale/<lang>/LC_MESSAGES/workbench.po``).

``N_`` marks a string for extraction without translating it where it is written (errors raised
deep in logic, translated by the view that shows them). ``DYNAMIC`` lists msgids that templates
translate from data (roles, kinds, form fields), so the catalogs carry them too."""

from __future__ import annotations

from peluit.ground.i18n import N_ as N_  # re-exported: the workbench's modules mark with it

DYNAMIC = (
    # roles
    N_("auditor"), N_("lead"), N_("compliance"),
    # submission and reply kinds
    N_("report"), N_("message"), N_("file"), N_("retaliation"), N_("question"),
    # the report form's fields (docs/engineering.md)
    N_("category"), N_("what"), N_("who_name"), N_("who_position"), N_("who_unit"),
    N_("where"), N_("when"), N_("how"), N_("evidence"), N_("language"), N_("text"),
    N_("in_reply_to"),
    # coarse statuses
    N_("received"), N_("verification"), N_("forwarded"), N_("investigation"), N_("finished"),
    N_("duplicate"), N_("archived"), N_("not_processed"),
    # the clocks' labels (policies.clocks.CLOCKS, whose own catalog is the policies domain)
    N_("Acknowledgment"), N_("Initial review and decision"), N_("Completion"),
    N_("Response to retaliation"), N_("Carrying bundles"),
    # what meets each service target, and its source (policies.clocks.SERVICE_TARGETS)
    N_("the standard acknowledgment message is sent to the reporter"),
    N_("the report is reviewed and the lead has decided the next step"),
    N_("the case is closed"),
    N_("the lead answers the reporter through the follow-up page and records it handled"),
    N_("an inbox bundle is imported on the workbench"),
    N_("this inspectorate's own service target (SP4N-LAPOR! routes a report within "
       "3 working days)"),
    N_("this inspectorate's own service target"),
    N_("Itjen Kemenkes: finished within 75 working days of receipt"),
)
