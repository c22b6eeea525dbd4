"""The W3C Web Annotation test suite's JSON Schema assertions, run the way its harness runs them.

A ``.test`` file lists assertion files (or inline assertions, or nested lists of them); each
assertion is a draft-04 JSON Schema that may ``$ref`` the shared ``definitions/*.json`` by
their ``id``. As in the suite's own runner (WPT's ``JSONtest.js``): an assertion passes when
the instance's validity is its ``expectedResult`` (``valid`` unless said otherwise); when it
does not, it fails with its ``errorMessage``, and ``onUnexpectedResult`` says whether to go on
(``…AndContinue``), skip the rest of its list (``…AndSkip``) or stop (``…AndAbort``).
Assertions so skipped are reported as skipped, never as passed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SUITE = Path(settings.BASE_DIR).parent / "shared" / "w3c-web-annotation-tests"

ACTIONS = {
    "failAndContinue": "continue",
    "failAndSkip": "skip",
    "failAndAbort": "abort",
    "passAndContinue": "continue",
    "passAndSkip": "skip",
    "passAndAbort": "abort",
}


@dataclass
class Outcome:
    """One assertion applied to one instance."""

    file: str
    title: str
    assertion_type: str
    status: str  # "pass", "fail" or "skipped"
    message: str = ""
    errors: list[str] = field(default_factory=list)


def suite_root() -> Path:
    """The suite beside this checkout; skip the test without it, but fail on CI."""
    if not SUITE.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{SUITE} is missing: CI must have shared/ beside the checkout.")
        pytest.skip(f"{SUITE} is not beside this checkout")
    return SUITE


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


class Suite:
    def __init__(self, root: Path):
        self.root = root
        definitions = [_load(path) for path in sorted((root / "definitions").glob("*.json"))]
        self.registry: Registry = Registry().with_resources(
            (schema["id"], Resource.from_contents(schema, default_specification=DRAFT4))
            for schema in definitions
        )
        self.format_checker = Draft4Validator.FORMAT_CHECKER

    def assertions(self, test_file: str) -> list[Any]:
        """The test's assertions, loaded, keeping any nesting of lists."""
        test = _load(self.root / test_file)
        assertions = test.get("assertions")
        if not isinstance(assertions, list) or not assertions:
            raise ValueError(f"{test_file} has no list of assertions")
        return [self._assertion(item) for item in assertions]

    def _assertion(self, item: Any) -> Any:
        if isinstance(item, list):
            return [self._assertion(inner) for inner in item]
        if isinstance(item, str):
            return {**_load(self.root / item), "assertionFile": item}
        if isinstance(item, dict) and "assertionFile" in item:
            # An external assertion whose keys the test overrides.
            return {**_load(self.root / item["assertionFile"]), **item}
        if isinstance(item, dict):
            return item
        raise ValueError(f"Cannot read the assertion {item!r}")

    def run(self, test_file: str, instance: Any) -> list[Outcome]:
        outcomes: list[Outcome] = []
        self._run(self.assertions(test_file), instance, outcomes)
        return outcomes

    def _run(self, assertions: list[Any], instance: Any, outcomes: list[Outcome]) -> str:
        action = "continue"
        for assertion in assertions:
            if isinstance(assertion, list):
                if self._run(assertion, instance, outcomes) == "abort":
                    action = "abort"
                continue
            name = assertion.get("assertionFile", f"inline: {assertion.get('title', '?')}")
            title = assertion.get("title", name)
            kind = assertion.get("assertionType", "must")
            if action != "continue":
                outcomes.append(Outcome(name, title, kind, "skipped"))
                continue
            schema = {key: value for key, value in assertion.items() if key != "assertionFile"}
            validator = Draft4Validator(schema, registry=self.registry, format_checker=self.format_checker)
            errors = [error.message for error in validator.iter_errors(instance)]
            expected = assertion.get("expectedResult", "valid")
            if expected not in ("valid", "invalid"):
                raise ValueError(f"{name}: unknown expectedResult {expected!r}")
            as_expected = (not errors) if expected == "valid" else bool(errors)
            if as_expected:
                outcomes.append(Outcome(name, title, kind, "pass"))
                continue
            message = (
                assertion.get("errorMessage") or assertion.get("message") or f"Result was not {expected}"
            )
            outcomes.append(Outcome(name, title, kind, "fail", message, errors))
            action = ACTIONS.get(assertion.get("onUnexpectedResult", "failAndContinue"), "continue")
        return action


def report(outcomes: list[Outcome]) -> str:
    """The failed and skipped assertions, readably, for an assertion message."""
    lines = []
    for outcome in outcomes:
        if outcome.status != "pass":
            lines.append(f"{outcome.status.upper()} {outcome.file}: {outcome.message}")
            lines.extend(f"    {error}" for error in outcome.errors[:5])
    return "\n".join(lines)
