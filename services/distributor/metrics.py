"""Prometheus metrics of the distributor (served on ``HUB_DISTRIBUTOR_METRICS_PORT`` when set)."""

from prometheus_client import Counter, Histogram

DELIVERIES = Counter(
    "hub_deliveries_total", "Delivery attempts by network and outcome", ["network", "outcome"]
)
DELIVERY_SECONDS = Histogram(
    "hub_delivery_seconds",
    "Time to carry one claimed delivery to an outcome",
    ["network"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
