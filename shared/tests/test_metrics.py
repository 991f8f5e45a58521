"""Each app counts on its own Prometheus registry, served on its /metrics."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest

from shared.web import METRICS_REGISTRY, HttpMetrics, create_base_app


async def test_two_apps_in_one_process_count_their_own_requests(aiohttp_client: Any) -> None:
    first = await aiohttp_client(create_base_app("metrics-first"))
    second = await aiohttp_client(create_base_app("metrics-second"))
    for _ in range(3):
        assert (await first.get("/healthz")).status == 200
    labels = {"method": "GET", "route": "/healthz", "status": "200"}
    served = first.app[METRICS_REGISTRY].get_sample_value(
        "http_requests_total", {"service": "metrics-first", **labels}
    )
    assert served == 3
    text = await (await second.get("/metrics")).text()
    assert "metrics-first" not in text
    assert 'http_requests_total{method="GET",route="/healthz",service="metrics-first"' not in text
    assert "process_cpu_seconds_total" in text  # the process metrics stay on every app's page
    assert (
        REGISTRY.get_sample_value("http_requests_total", {"service": "metrics-first", **labels})
        is None
    )


def _without_created(text: str) -> list[str]:
    """The exposition's lines, the `_created` samples by name and labels only (a time)."""
    return [line.rpartition(" ")[0] if "_created{" in line else line for line in text.splitlines()]


def test_a_scrape_shows_what_prometheus_own_counter_and_histogram_would() -> None:
    # The same requests counted by HttpMetrics and by prometheus_client's Counter and
    # Histogram (what HttpMetrics was built on): the same series, counts, buckets and sums.
    served = [
        ("GET", "/api/v1/{tail}", 200, 0.0004),
        ("GET", "/api/v1/{tail}", 200, 0.001),  # on a bound: counted in that bucket
        ("GET", "/api/v1/{tail}", 404, 0.0031),
        ("POST", "/api/v1/{tail}", 201, 0.02),
        ("PROPFIND", "/api/v1/{tail}", 200, 0.3),  # one OTHER series, whatever the spelling
        ("MKCOL", "/api/v1/{tail}", 200, 7.5),  # past the last bound: +Inf only
        ("GET", "/healthz", 200, 0.0002),
    ] * 3
    registry = CollectorRegistry()
    metrics = HttpMetrics(registry, "gateway")
    reference = CollectorRegistry()
    requests = Counter(
        "http_requests_total",
        "HTTP requests served",
        ["service", "method", "route", "status"],
        registry=reference,
    )
    latency = Histogram(
        "http_request_duration_seconds",
        "HTTP request latency",
        ["service", "route"],
        buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        registry=reference,
    )
    for method, route, status, elapsed in served:
        metrics.observe(method, route, status, elapsed)
        label = method if method in {"GET", "POST"} else "OTHER"
        requests.labels("gateway", label, route, str(status)).inc()
        latency.labels("gateway", route).observe(elapsed)

    assert _without_created(generate_latest(registry).decode()) == _without_created(
        generate_latest(reference).decode()
    )
    tail = {"service": "gateway", "route": "/api/v1/{tail}"}
    bucket = "http_request_duration_seconds_bucket"
    assert registry.get_sample_value(bucket, tail | {"le": "0.001"}) == 6
    assert registry.get_sample_value(bucket, tail | {"le": "0.005"}) == 9
    assert registry.get_sample_value(bucket, tail | {"le": "5.0"}) == 15
    assert registry.get_sample_value(bucket, tail | {"le": "+Inf"}) == 18
    assert registry.get_sample_value("http_request_duration_seconds_count", tail) == 18
    assert registry.get_sample_value(
        "http_requests_total", tail | {"method": "OTHER", "status": "200"}
    ) == 6  # fmt: skip
    created = registry.get_sample_value(
        "http_requests_created", tail | {"method": "GET", "status": "200"}
    )
    assert created is not None and created > 0
    assert registry.get_sample_value("http_request_duration_seconds_created", tail) is not None


def test_one_registry_takes_one_set_of_http_metrics() -> None:
    registry = CollectorRegistry()
    HttpMetrics(registry, "first")
    with pytest.raises(ValueError, match="http_requests_total"):
        HttpMetrics(registry, "second")
