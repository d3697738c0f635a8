"""Roles and the principal every authorised call carries."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from guang.domain.models import Domain


class Role(StrEnum):
    SHOPPER = "shopper"
    STAFF = "staff"
    BRAND_ADMIN = "brand_admin"
    MALL_OPERATOR = "mall_operator"


class Account(Domain):
    """A non-shopper login: `id` is the mini-program openid; scope fields say what the role may touch."""

    id: str
    role: Role
    name: str
    staff_id: str | None = None
    store_id: str | None = None
    brand_id: str | None = None
    mall_id: str | None = None


@dataclass(frozen=True)
class Principal:
    """The verified caller. `subject_id` is a member id for shoppers, a staff id for staff, else the
    account id."""

    subject_id: str
    role: Role
    store_id: str | None = None
    brand_id: str | None = None
    mall_id: str | None = None

    @property
    def member_id(self) -> str | None:
        return self.subject_id if self.role is Role.SHOPPER else None

    @property
    def staff_id(self) -> str | None:
        return self.subject_id if self.role is Role.STAFF else None
