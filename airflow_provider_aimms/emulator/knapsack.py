"""An exact 0/1 knapsack solver, the model behind the demo app's ``knapsack`` service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from airflow_provider_aimms.emulator.services import ServiceContext, ServiceFailure, ServiceResult

# Above this many dynamic-programming cells (items x (capacity + 1)) a solve would take minutes.
MAX_DP_CELLS = 50_000_000


@dataclass(frozen=True)
class Item:
    """One candidate item."""

    name: str
    weight: int
    value: float


def _fail(problem: str) -> ServiceFailure:
    return ServiceFailure(f"Invalid knapsack request: {problem}", return_code=0)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_problem(document: Any) -> tuple[int, list[Item]]:
    """Validate a knapsack request document and return its capacity and items."""
    if not isinstance(document, dict):
        raise _fail("the body must be a JSON object with 'capacity' and 'items'.")
    if "capacity" not in document:
        raise _fail("'capacity' is missing.")
    capacity = document["capacity"]
    if not _is_int(capacity) or capacity < 0:
        raise _fail(f"'capacity' must be a non-negative integer, got {capacity!r}.")
    raw_items = document.get("items")
    if not isinstance(raw_items, list):
        raise _fail("'items' must be a list of {name, weight, value} objects.")

    items: list[Item] = []
    names: set[str] = set()
    for position, raw in enumerate(raw_items):
        if not isinstance(raw, dict):
            raise _fail(f"item {position} must be an object.")
        name: Any = raw.get("name")
        weight: Any = raw.get("weight")
        value: Any = raw.get("value")
        if not isinstance(name, str) or not name:
            raise _fail(f"item {position} needs a non-empty string 'name'.")
        if name in names:
            raise _fail(f"duplicate item name {name!r}.")
        if not _is_int(weight) or weight < 0:
            raise _fail(f"item {name!r}: 'weight' must be a non-negative integer, got {weight!r}.")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _fail(f"item {name!r}: 'value' must be a number, got {value!r}.")
        names.add(name)
        items.append(Item(name, weight, value))

    cells = len(items) * (capacity + 1)
    if cells > MAX_DP_CELLS:
        raise _fail(
            f"the problem is too large: {len(items)} items x capacity {capacity} needs {cells} "
            f"dynamic-programming cells, the limit is {MAX_DP_CELLS}."
        )
    return capacity, items


def solve(capacity: int, items: list[Item]) -> list[int]:
    """Return the positions of an optimal selection, in input order."""
    best: list[float] = [0] * (capacity + 1)
    taken: list[bytes] = []
    for item in items:
        if item.weight > capacity:
            taken.append(bytes(capacity + 1))
            continue
        # Whole-row list operations keep the pure-Python inner loop about five times faster than indexing.
        without = best[item.weight :]
        with_item = [value + item.value for value in best[: capacity + 1 - item.weight]]
        better = [w > wo for w, wo in zip(with_item, without, strict=True)]
        best[item.weight :] = [w if b else wo for w, wo, b in zip(with_item, without, better, strict=True)]
        taken.append(bytes(item.weight) + bytes(better))

    selected: list[int] = []
    remaining = capacity
    for position in range(len(items) - 1, -1, -1):
        if taken[position][remaining]:
            selected.append(position)
            remaining -= items[position].weight
    return sorted(selected)


def knapsack_service(context: ServiceContext) -> ServiceResult:
    """Solve the knapsack in the request body and answer with ``solution.json``."""
    capacity, items = parse_problem(context.json())
    context.log(f"Knapsack with {len(items)} items and capacity {capacity}.")

    chosen = solve(capacity, items)
    total_value = sum(items[position].value for position in chosen)
    total_weight = sum(items[position].weight for position in chosen)
    context.log(
        f"Optimal value {total_value} using weight {total_weight} of {capacity} ({len(chosen)} items)."
    )

    solution = {
        "selected": [items[position].name for position in chosen],
        "total_value": total_value,
        "total_weight": total_weight,
        "capacity": capacity,
        "optimal": True,
    }
    return ServiceResult(solution, "solution.json")
