"""Reads the answer of Prometheus's instant query endpoint (`/api/v1/query`).

The envelope is `{"status": "success" | "error", "data": {"resultType": ...,
"result": ...}, "errorType", "error", "warnings"}`. Sample values are strings
so that NaN and the infinities survive JSON: `"1"`, `"NaN"`, `"+Inf"`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from connectors.base import ConfigurationError, TransientError

SERIES_CAP = 5
"""Label sets listed when a query returns more than one series."""

AGGREGATE_HINT = (
    "aggregate it to one series, e.g. sum(...), max(...) or "
    "sum by () (...), or filter by labels"
)


@dataclass(frozen=True)
class Sample:
    """One value of the answer, with the labels of its series."""

    labels: dict[str, str]
    timestamp: float
    text: str


@dataclass
class Answer:
    """The part of an instant query answer a reading needs."""

    result_type: str
    samples: list[Sample]
    warnings: list[str] = field(default_factory=list)


def parse_answer(body: Any, where: str) -> Answer:
    """Check the envelope and collect the samples of a vector or scalar.

    Raises:
        ConfigurationError: Prometheus reported an error, or the query
            returned a range vector, a string or a native histogram.
        TransientError: The body does not have the documented shape.
    """
    if not isinstance(body, dict):
        raise _malformed(where, "it is not a JSON object")
    status = body.get("status")
    if status == "error":
        raise ConfigurationError(
            f"Prometheus refused the query at {where}: {_error_text(body)}; "
            "fix the PromQL"
        )
    if status != "success":
        raise _malformed(where, f"its status is {status!r}")
    data = body.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("resultType"), str):
        raise _malformed(where, "it has no data.resultType")

    result_type: str = data["resultType"]
    result = data.get("result")
    warnings = [str(w) for w in body.get("warnings") or [] if w]
    if result_type == "vector":
        return Answer(result_type, _vector(result, where), warnings)
    if result_type == "scalar":
        return Answer(result_type, [_scalar(result, where)], warnings)
    if result_type == "matrix":
        raise ConfigurationError(
            f"the query at {where} returned a range vector (matrix), not one "
            "value; wrap the range selector in a function such as "
            "max_over_time(...[5m]) or rate(...[5m])"
        )
    if result_type == "string":
        raise ConfigurationError(
            f"the query at {where} returned a string, not a number; write a "
            "query that yields a number"
        )
    raise _malformed(where, f"its resultType {result_type!r} is unknown")


def single_sample(answer: Answer, where: str) -> Sample | None:
    """The one sample of the answer, None for none; several are an error."""
    if len(answer.samples) <= 1:
        return answer.samples[0] if answer.samples else None
    shown = ", ".join(label_text(s.labels) for s in answer.samples[:SERIES_CAP])
    more = len(answer.samples) - SERIES_CAP
    if more > 0:
        shown += f" and {more} more"
    raise ConfigurationError(
        f"the query at {where} returned {len(answer.samples)} series ({shown}) "
        f"but a key result needs one number; {AGGREGATE_HINT}"
    )


def sample_value(sample: Sample, where: str) -> float:
    """The sample's value as a finite float.

    Raises:
        ConfigurationError: The value is NaN or an infinity.
        TransientError: The value is not a number at all.
    """
    try:
        value = float(sample.text)
    except ValueError:
        raise _malformed(
            where, f"the sample value {sample.text!r} is not a number"
        ) from None
    if math.isnan(value):
        raise ConfigurationError(
            f"the query at {where} returned NaN (not a number), e.g. from a "
            "division by zero or an empty average; guard the query, e.g. "
            "with `> 0` or `or vector(0)`"
        )
    if math.isinf(value):
        sign = "+Inf" if value > 0 else "-Inf"
        raise ConfigurationError(
            f"the query at {where} returned {sign}, not a finite number, e.g. "
            "from a division by zero; guard the query's divisor"
        )
    return value


def label_text(labels: dict[str, str]) -> str:
    """Labels in PromQL selector form, e.g. `up{job="node"}`."""
    name = labels.get("__name__", "")
    pairs = ", ".join(
        f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__"
    )
    return f"{name}{{{pairs}}}"


def _vector(result: Any, where: str) -> list[Sample]:
    if not isinstance(result, list):
        raise _malformed(where, "its vector result is not a list")
    samples = []
    for item in result:
        if not isinstance(item, dict):
            raise _malformed(where, "a vector element is not an object")
        labels = item.get("metric") or {}
        if "histogram" in item and "value" not in item:
            raise ConfigurationError(
                f"the query at {where} returned a native histogram for "
                f"{label_text(labels)}; reduce it to a number with "
                "histogram_count(), histogram_sum() or histogram_quantile()"
            )
        if not isinstance(labels, dict):
            raise _malformed(where, "a series has no label object")
        timestamp, text = _pair(item.get("value"), where)
        samples.append(
            Sample({str(k): str(v) for k, v in labels.items()}, timestamp, text)
        )
    return samples


def _scalar(result: Any, where: str) -> Sample:
    timestamp, text = _pair(result, where)
    return Sample({}, timestamp, text)


def _pair(value: Any, where: str) -> tuple[float, str]:
    valid = (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], int | float)
        and not isinstance(value[0], bool)
        and isinstance(value[1], str)
    )
    if not valid:
        raise _malformed(where, 'a sample is not [<unix time>, "<value>"]')
    return float(value[0]), value[1]


def _error_text(body: dict[str, Any]) -> str:
    kind = body.get("errorType")
    message = str(body.get("error") or "no message")[:300]
    return f"{kind}: {message}" if kind else message


def _malformed(where: str, problem: str) -> TransientError:
    return TransientError(
        f"the Prometheus answer to {where} is malformed ({problem}); try again later"
    )
