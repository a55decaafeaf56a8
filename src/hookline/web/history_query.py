"""The delivery history's filters, sorting and paging, read from the query
string so every view of it has a URL (and works without JavaScript)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from hookline.rpc.commands.deliveries import cursor_at
from hookline.web import describe
from hookline.web.forms import FormErrors

STATUSES = (("", "All results"), *((code, word) for code, word, _ in describe.STATUSES))
# Columns the server sorts by, as get-webhook-deliveries names them.
SORTS = ("sent-at", "status", "duration", "created")
DEFAULT_SORT = "-created"
PAGE_SIZE = 20
FIELDS = ("status", "since", "until", "q", "sort")
# Far enough for any history a person pages through; beyond, filter.
MAX_PAGE = 10_000


def _page(value: str) -> int:
    """A page number from the URL; anything else is the first page."""
    value = value.strip()
    if not value.isdigit():
        return 1
    return min(max(1, int(value)), MAX_PAGE)


def _day(value: str) -> date | None:
    """A day of the filter. The last day a calendar holds is refused: the
    filter's window ends the day after its end date."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    return day if day < date.max else None


@dataclass(frozen=True)
class HistoryQuery:
    status: str = ""
    since: str = ""
    until: str = ""
    q: str = ""
    sort: str = DEFAULT_SORT
    page: int = 1
    errors: FormErrors = field(default_factory=FormErrors, compare=False)

    @classmethod
    def read(cls, query: dict[str, str]) -> HistoryQuery:
        errors = FormErrors()
        status = query.get("status", "")
        if status not in {value for value, _ in STATUSES}:
            errors.add("status", "Choose one of the listed results.")
            status = ""
        sort = query.get("sort", "") or DEFAULT_SORT
        if sort.lstrip("-") not in SORTS:
            sort = DEFAULT_SORT
        since, until = query.get("since", "").strip(), query.get("until", "").strip()
        for name, value in (("since", since), ("until", until)):
            if value and _day(value) is None:
                errors.add(name, "Give a date as YYYY-MM-DD, before 9999-12-31.")
        first, last = _day(since), _day(until)
        if first and last and last < first:
            errors.add("until", "The end date comes before the start date.")
        return cls(
            status=status,
            since=since,
            until=until,
            q=query.get("q", "").strip()[:200],
            sort=sort,
            page=_page(query.get("page", "")),
            errors=errors,
        )

    @property
    def filtered(self) -> bool:
        return bool(self.status or self.since or self.until or self.q)

    def params(self, webhook_id: Any) -> dict[str, Any]:
        """The get-webhook-deliveries params. Dates are whole UTC days: the
        end date is included."""
        params: dict[str, Any] = {"webhookId": webhook_id, "sort": self.sort, "limit": PAGE_SIZE}
        first, last = _day(self.since), _day(self.until)
        if first:
            params["since"] = datetime.combine(first, time(), UTC).isoformat()
        if last:
            params["until"] = datetime.combine(last + timedelta(days=1), time(), UTC).isoformat()
        if self.status:
            params["status"] = self.status
        if self.q:
            params["search"] = self.q
        if self.page > 1:
            params["cursor"] = cursor_at((self.page - 1) * PAGE_SIZE)
        return params

    def position(self, total: int) -> tuple[int, int]:
        """The first and last row shown, counted from 1: (41, 60) of 212."""
        first = (self.page - 1) * PAGE_SIZE + 1
        return (first, min(total, first + PAGE_SIZE - 1))

    def last_page(self, total: int) -> int:
        return max(1, -(-total // PAGE_SIZE))

    def url(self, path: str, **changes: str) -> str:
        """This view with some values changed, as a link to the history."""
        values = {name: str(getattr(self, name)) for name in (*FIELDS, "page")}
        values.update(changes)
        pairs = [
            (name, value)
            for name, value in values.items()
            if value
            and not (name == "sort" and value == DEFAULT_SORT)
            and not (name == "page" and value == "1")
        ]
        query = urlencode(pairs)
        return f"{path}?{query}" if query else path

    def sort_url(self, path: str, column: str) -> str:
        """Sort by ``column``; a second click reverses. Sorting starts over at
        the first page."""
        target = f"-{column}" if self.sort == column else column
        return self.url(path, sort=target, page="1")
