"""Who a request acts as: the actor's name and roles, as the audit trail records them (SPEC §9)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property


class Role(StrEnum):
    """The roles of SPEC §9's route table; a credential may hold several."""

    BOOKING = "booking"
    CLINICIAN = "clinician"
    OPS = "ops"
    AUDITOR = "auditor"
    ADMIN = "admin"


@dataclass(frozen=True)
class Actor:
    """``name`` is an API key's name, a token's ``sub``, or ``anonymous`` when auth is off."""

    name: str
    roles: frozenset[Role] = field(default_factory=frozenset)

    @cached_property
    def role_names(self) -> str:
        """The roles as the audit trail stores them: sorted names, comma-separated (worked out once)."""
        return ",".join(sorted(role.value for role in self.roles))

    def holds_any(self, roles: frozenset[Role]) -> bool:
        """Whether the actor holds at least one of ``roles``."""
        return not self.roles.isdisjoint(roles)


# With AUTH_MODE=off every request acts as this actor, holding every role.
ANONYMOUS = Actor(name="anonymous", roles=frozenset(Role))

# A request that presented no credential (to an open route, or refused with 401): no roles at all.
UNAUTHENTICATED = Actor(name="unauthenticated")
