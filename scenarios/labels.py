"""The one table of display names: resource kinds as the CLI, reports and sentences show them."""

from __future__ import annotations

RESOURCE_LABELS: dict[str, str] = {
    "beds": "beds",
    "physicians": "physicians",
    "nurses": "nurses",
    "gps": "GPs",
    "public_health_staff": "public-health staff",
    "pharmacists": "pharmacists",
    "tcm_physicians": "TCM physicians",
    "psychiatrists": "psychiatrists",
    "health_technicians": "health technicians",
}


def resource_label(kind: str) -> str:
    """Display name of a resource kind (the kind itself when it has none)."""
    return RESOURCE_LABELS.get(kind, kind)
