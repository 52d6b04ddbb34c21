"""Every field path of the official SDKs' request types has a class in a surface's contract.

Upgrading `openai` or `anthropic` with new request fields fails this test until they are
classified in `proxy/surfaces/contracts/`. The coverage (paths per surface, per class) is
printed; `bench/RESULTS.md` records it.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from cogate.policies.contract import Node
from cogate.policies.contract_table import leaves, resolve, split

from .sdk_paths import sdk_paths
from .surfaces import CONTRACTS, SDK_TYPES


def unclassified(contract: Node, params: Any) -> list[str]:
    missing = []
    for path, _kind in sorted(sdk_paths(params)):
        if resolve(contract, split(path)) is None:
            missing.append(path)
    return missing


@pytest.mark.parametrize("operation", sorted(SDK_TYPES))
def test_every_sdk_request_path_is_classified(operation: str) -> None:
    surface, params = SDK_TYPES[operation]
    missing = unclassified(CONTRACTS[surface](), params)
    assert missing == [], f"{operation}: {len(missing)} unclassified paths, e.g. {missing[:10]}"


def coverage() -> dict[str, Counter[str]]:
    return {
        name: Counter(node.cls for _, node in leaves(make())) for name, make in CONTRACTS.items()
    }


def test_coverage_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    table = coverage()
    with capsys.disabled():
        print("\ncontract coverage (leaf paths per surface, per class):")
        for name, counts in table.items():
            shown = ", ".join(f"{cls} {n}" for cls, n in sorted(counts.items()))
            print(f"  {name}: {sum(counts.values())} paths ({shown})")
    for counts in table.values():
        assert counts["text"] > 0 and counts["setting"] > 0
