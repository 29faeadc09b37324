"""Protection policies: the signed documents (id, en), machine-checkable controls, the working-day
calendar, statistics that never expose a reporter, and audit-log checks."""
