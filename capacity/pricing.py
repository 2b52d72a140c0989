"""Cloud Run functions (Cloud Functions 2nd gen) prices: one table, each figure with its source.

Cloud Functions (2nd gen) is billed as Cloud Run with request-based billing (the Cloud Run
functions 1st gen page sends 2nd gen readers to the Cloud Run price list). All prices are
US dollars, Tier 1 regions (e.g. us-central1), list prices without the monthly free tier
(the free tier is a fixed monthly discount; the figures here are marginal costs beyond it)
and without committed-use discounts. Read on 2026-11-29 through the stored copies of the
pages named in ``SOURCES``; where Google's own page could not be read for a figure, the
figure is marked as such and is an assumption to check before relying on it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PRICES", "READ_ON", "SOURCES", "Prices"]

READ_ON = "2026-11-29"

_RUN_PRICING = "https://cloud.google.com/run/pricing"


@dataclass(frozen=True)
class Prices:
    """Dollars per unit under request-based billing (the only billing 2nd gen functions have)."""

    cpu_active: float = 0.000024  # per vCPU-second while an instance handles a request
    memory_active: float = 0.0000025  # per GiB-second while an instance handles a request
    request: float = 0.40 / 1_000_000  # per request
    cpu_idle: float = 0.0000025  # per vCPU-second of a min-instance kept idle
    memory_idle: float = 0.0000025  # per GiB-second of a min-instance kept idle
    granularity_s: float = 0.1  # billable instance time is rounded up to this


PRICES = Prices()

#: Where each figure in ``Prices`` comes from (read on ``READ_ON``).
SOURCES: dict[str, str] = {
    "cpu_active": (
        f"{_RUN_PRICING} — 'Pricing for services with CPU only allocated during request "
        "processing', Tier 1: $0.00002400 / vCPU-second beyond the free tier (Google's page)."
    ),
    "memory_active": (
        "$0.00000250 / GiB-second: the stored copy of Google's page ends before the memory "
        "column; the figure is the one three independent 2025-2026 summaries of that table give "
        "(https://cloudwebschool.com/tools/cloud-run-cost-calculator/, "
        "https://cloudchipr.com/blog/cloud-run-pricing, "
        "https://cloudguard.dev/blog/cloud-run-min-instances). Secondary source: check it."
    ),
    "request": (
        "$0.40 per million requests beyond 2 million a month: the same summaries, and Google's "
        "own Cloud Functions price list (invocations beyond 2 million: $0.40 per million, "
        "https://cloud.google.com/functions/pricing-1stgen). Secondary for 2nd gen: check it."
    ),
    "cpu_idle": (
        "NOT FOUND in the stored pages. Assumption: idle min-instances are billed at about a "
        "tenth of the active CPU rate, $0.0000025 / vCPU-second (the 'idle min instances' row "
        "of the request-based table as we remember it). Change it and rerun."
    ),
    "memory_idle": (
        "NOT FOUND in the stored pages. Assumption: $0.0000025 / GiB-second, the active memory "
        "rate (memory is held whether or not a request runs). Change it and rerun."
    ),
    "granularity_s": (
        f"{_RUN_PRICING}: 'Cloud Run charges you only for the resources you use, rounded up to "
        "the nearest 100 millisecond' (Google's page). Applied here per busy period of an "
        "instance: periods closer together than the rounding merge (an assumption on how the "
        "rounding is applied)."
    ),
}
