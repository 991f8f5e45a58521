"""Each app counts on its own Prometheus registry, served on its /metrics."""

from __future__ import annotations

from typing import Any

from prometheus_client import REGISTRY

from shared.web import METRICS_REGISTRY, create_base_app


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
