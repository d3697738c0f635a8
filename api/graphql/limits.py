"""Query size limits that keep the validation cache effective.

Strawberry's depth and alias limiters build a new validation-rule class per instance, and the
validation cache is keyed by the rule classes, so a limiter made per request misses the cache every
time (about 2 ms per request on this machine instead of 0.1 ms). The rule classes are built once here.
"""

from __future__ import annotations

from strawberry.extensions import AddValidationRules, MaxAliasesLimiter, QueryDepthLimiter

MAX_DEPTH = 8
MAX_ALIASES = 20
MAX_TOKENS = 2000

_RULES = [
    *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
]


class DepthAndAliasLimits(AddValidationRules):
    def __init__(self) -> None:
        super().__init__(_RULES)
