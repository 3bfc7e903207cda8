"""Request counters and latency histograms in the Prometheus text format (version 0.0.4).

Written by hand (no ``prometheus_client`` dependency). The service runs on one event
loop, which is the only writer; :meth:`Metrics.render` reads a consistent-enough
snapshot. Series:

- ``riskscore_http_requests_total{endpoint,method,status}`` (counter)
- ``riskscore_http_request_duration_seconds{endpoint}`` (histogram, seconds)
- ``riskscore_rows_scored_total`` (counter)
- ``riskscore_model_reloads_total{outcome}`` (counter: ``ok`` / ``failed``)
- ``riskscore_model_info{name,version,source}`` (gauge, 1 for the served model)
"""

from __future__ import annotations

import bisect
from collections import defaultdict

__all__ = ["BUCKETS", "Metrics"]

#: Upper bounds of the latency histogram buckets, in seconds.
BUCKETS: tuple[float, ...] = (
    0.0005,
    0.001,
    0.002,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class _Histogram:
    __slots__ = ("counts", "sum")

    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKETS) + 1)  # the last slot is +Inf
        self.sum = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(BUCKETS, seconds)] += 1
        self.sum += seconds


class Metrics:
    """Counters and histograms of one service process.

    Examples
    --------
    >>> m = Metrics()
    >>> m.observe("/score", "POST", 200, 0.0007)
    >>> 'riskscore_http_requests_total{endpoint="/score",method="POST",status="200"} 1' in (
    ...     m.render())
    True
    """

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self.latency: dict[str, _Histogram] = {}
        self.rows = 0
        self.reloads: dict[str, int] = defaultdict(int)
        self.model: tuple[str, str, str] | None = None

    def observe(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        """Count one request and add its duration to the endpoint's histogram."""
        self.requests[(endpoint, method, status)] += 1
        hist = self.latency.get(endpoint)
        if hist is None:
            hist = self.latency[endpoint] = _Histogram()
        hist.observe(seconds)

    def render(self) -> str:
        """Return every series in the Prometheus text exposition format."""
        out = [
            "# HELP riskscore_http_requests_total HTTP requests by endpoint, method and status.",
            "# TYPE riskscore_http_requests_total counter",
        ]
        for (endpoint, method, status), n in sorted(self.requests.items()):
            out.append(
                f'riskscore_http_requests_total{{endpoint="{_label(endpoint)}",'
                f'method="{method}",status="{status}"}} {n}'
            )
        out += [
            "# HELP riskscore_http_request_duration_seconds Time to answer, by endpoint.",
            "# TYPE riskscore_http_request_duration_seconds histogram",
        ]
        for endpoint, hist in sorted(self.latency.items()):
            label = f'endpoint="{_label(endpoint)}"'
            total = 0
            for bound, count in zip((*BUCKETS, float("inf")), hist.counts, strict=True):
                total += count
                le = "+Inf" if bound == float("inf") else repr(bound)
                out.append(
                    f'riskscore_http_request_duration_seconds_bucket{{{label},le="{le}"}} {total}'
                )
            out.append(f"riskscore_http_request_duration_seconds_sum{{{label}}} {hist.sum!r}")
            out.append(f"riskscore_http_request_duration_seconds_count{{{label}}} {total}")
        out += [
            "# HELP riskscore_rows_scored_total Rows scored (one per seller or listing).",
            "# TYPE riskscore_rows_scored_total counter",
            f"riskscore_rows_scored_total {self.rows}",
            "# HELP riskscore_model_reloads_total Model reloads after the source changed.",
            "# TYPE riskscore_model_reloads_total counter",
        ]
        for outcome in ("ok", "failed"):
            out.append(
                f'riskscore_model_reloads_total{{outcome="{outcome}"}} {self.reloads[outcome]}'
            )
        out += [
            "# HELP riskscore_model_info The model being served (value 1).",
            "# TYPE riskscore_model_info gauge",
        ]
        if self.model is not None:
            name, version, source = (_label(x) for x in self.model)
            out.append(
                f'riskscore_model_info{{name="{name}",version="{version}",source="{source}"}} 1'
            )
        return "\n".join(out) + "\n"
