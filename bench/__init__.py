"""Peluit's benchmarks: one module per subject, each runnable as ``python -m bench.<name>`` and
printing its figures. ``python -m bench`` lists them; ``python -m bench NAME ...`` runs some;
``make bench`` runs them all. Figures belong in issue notes, never in timed test assertions."""
