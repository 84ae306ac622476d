"""Referral simulation of medical alliances (医联体/医共体)."""

DEFAULT_SEED = 12345  # the one default seed of every experiment (CLI, pipeline, batch, app)
