"""Adapters to third-party toolkits (optional dependencies, imported lazily).

- ``siamtrack.integrations.got10k.Got10kTracker``: got10k toolkit (``pip install got10k``).
- ``siamtrack.integrations.vot``: TraX tracker server for the VOT toolkit
  (``python -m siamtrack.integrations.vot``; ``pip install vot-trax``).
"""
