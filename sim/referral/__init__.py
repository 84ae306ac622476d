"""Referral simulation of medical alliances (医联体/医共体)."""
