"""What the people modules share: the error with one message per field, and paged lists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from tempodesk.core.models import User

PAGE_SIZE = 25


T = TypeVar("T")


class CustomerInvalid(ValueError):
    """The input cannot be saved; ``errors`` maps a form field to a readable message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


class AccountInvalid(ValueError):
    """An agent, group or role cannot be saved; ``errors`` maps a form field to a message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


@dataclass
class Paged(Generic[T]):
    items: list[T]
    page: int
    pages: int
    total: int


def paged(session: Session, stmt: Select[T], page: int) -> Paged[T]:
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    items = list(session.scalars(stmt.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    return Paged(items, page, pages, total)


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def agent_exists(session: Session, username: str) -> bool:
    return (
        session.scalar(
            select(User.id).where(User.username == username).where(User.is_active.is_(True))
        )
        is not None
    )
