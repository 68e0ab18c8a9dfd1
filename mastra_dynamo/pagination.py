"""Pagination maths shared by every domain (Mastra's normalizePerPage / calculatePagination rules)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from mastra_dynamo.errors import ValidationError

MAX_SAFE_INTEGER = 2**53 - 1


@dataclass(frozen=True)
class Pagination:
    page: int
    per_page: int | Literal[False]
    """What the response echoes (False when all rows were requested)."""
    limit: int | None
    """Rows per page, None for all."""
    offset: int

    def has_more(self, total: int) -> bool:
        if self.limit is None or self.limit == 0:
            return False
        return self.offset + self.limit < total

    @property
    def end(self) -> int | None:
        return None if self.limit is None else self.offset + self.limit


def _shown(value: object) -> str:
    """A short description of a rejected page value (numbers as such, anything else by its type only)."""
    small = isinstance(value, float | bool) or (isinstance(value, int) and abs(value) < 10**18)
    return repr(value) if small or value is None else type(value).__name__


def paginate(page: int | None, per_page: int | Literal[False] | None, *, default: int | None) -> Pagination:
    """Validate page/per_page. ``per_page=False`` = all (page must be 0); None = ``default`` (None = all)."""
    if page is None:
        page = 0
    if isinstance(page, bool) or not isinstance(page, int):
        raise ValidationError(f"page must be an integer, not {type(page).__name__}", code="INVALID_PAGINATION",
                              details={"page": _shown(page)})
    if page < 0:
        raise ValidationError("page must be >= 0", code="INVALID_PAGINATION", details={"page": _shown(page)})
    if per_page is None:
        per_page = default if default is not None else False
    if per_page is False:
        if page != 0:
            raise ValidationError("page must be 0 when perPage is false", code="INVALID_PAGINATION",
                                  details={"page": page})
        return Pagination(page=0, per_page=False, limit=None, offset=0)
    if isinstance(per_page, bool) or not isinstance(per_page, int):
        raise ValidationError(f"perPage must be an integer or False, not {type(per_page).__name__}",
                              code="INVALID_PAGINATION", details={"per_page": _shown(per_page)})
    if per_page < 0:
        raise ValidationError("perPage must be >= 0", code="INVALID_PAGINATION",
                              details={"per_page": _shown(per_page)})
    if page * per_page > MAX_SAFE_INTEGER or per_page > MAX_SAFE_INTEGER:
        raise ValidationError("page value too large", code="INVALID_PAGINATION", details={"page": page})
    return Pagination(page=page, per_page=per_page, limit=per_page, offset=page * per_page)
