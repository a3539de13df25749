"""An independent check that a knapsack plan is optimal, used by the demo and the tests."""

from __future__ import annotations

from typing import Any


def best_value(capacity: int, items: list[dict[str, Any]]) -> int:
    """
    Return the optimal value, computed another way than the emulator's solver.

    The emulator runs a dynamic programme over weights; this one runs over values, keeping the least
    weight that reaches each value. Two methods agreeing is the check.
    """
    total = sum(int(item["value"]) for item in items)
    too_heavy = capacity + 1
    least_weight = [0] + [too_heavy] * total
    for item in items:
        value, weight = int(item["value"]), int(item["weight"])
        for reached in range(total, value - 1, -1):
            candidate = least_weight[reached - value] + weight
            if candidate < least_weight[reached]:
                least_weight[reached] = candidate
    return max(reached for reached, weight in enumerate(least_weight) if weight <= capacity)


def check_plan(scenario: dict[str, Any], plan: dict[str, Any]) -> list[str]:
    """Return what is wrong with ``plan`` (empty when it is feasible, adds up and is optimal)."""
    items = {item["name"]: item for item in scenario["items"]}
    problems = [f"unknown pallet {name!r}" for name in plan["selected"] if name not in items]
    chosen = [items[name] for name in plan["selected"] if name in items]
    weight = sum(item["weight"] for item in chosen)
    value = sum(item["value"] for item in chosen)
    if weight > scenario["capacity"]:
        problems.append(f"{weight} kg exceeds the capacity of {scenario['capacity']} kg")
    if (weight, value) != (plan["total_weight"], plan["total_value"]):
        problems.append(
            f"totals say {plan['total_weight']} kg / {plan['total_value']}, pallets add up to {weight} / {value}"
        )
    optimum = best_value(scenario["capacity"], scenario["items"])
    if value != optimum:
        problems.append(f"value {value} is not the optimum {optimum}")
    return problems
