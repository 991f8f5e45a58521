"""The answers about companies, their members and teams (InvoiceFlow's words for them)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Self

from pydantic import Field

from billing_service.companies.repositories import Company, Member
from billing_service.platform.auth_client import User
from shared.models import View


class CompanyView(View):
    id: int
    name: str
    slug: str
    timezone: str
    currency: str | None  # the last default of its invoices' currency
    einvoice_format: str | None = Field(
        description="The e-invoice its `invoice-issued` e-mails attach; null: the plain PDF"
    )
    role: str  # the caller's
    is_owner: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, company: Company) -> Self:
        return cls.model_validate(asdict(company) | {"is_owner": company.role == "owner"})


class MemberView(View):
    user_id: int
    name: str | None  # None when auth-service no longer knows the user
    email: str | None
    role: str
    created_at: datetime

    @classmethod
    def of(cls, member: Member, user: User | None) -> Self:
        return cls(
            user_id=member.user_id,
            name=user.name if user else None,
            email=user.email if user else None,
            role=member.role,
            created_at=member.created_at,
        )


class TeamPlan(View):
    name: str


class TeamView(View):
    """InvoiceFlow's words: a team has admins and members, and says who owns it apart (the
    owner is an admin with `is_owner`); /companies/{id}/members keeps owner/admin/member."""

    id: int
    name: str
    slug: str
    is_current: bool
    is_owner: bool
    role: str
    plan: TeamPlan

    @classmethod
    def of(cls, company: Company, current: int | None) -> Self:
        return cls(
            id=company.id,
            name=company.name,
            slug=company.slug,
            is_current=company.id == current,
            is_owner=company.role == "owner",
            role="admin" if company.role == "owner" else company.role,
            plan=TeamPlan(name="Self-hosted"),
        )


class TeamRef(View):
    id: int
    name: str
