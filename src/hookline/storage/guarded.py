"""Inserts that check their own permission, and on PostgreSQL travel last.

A command like create-project reads the caller's role, inserts a row, then
writes its event and deliveries: on PostgreSQL five round trips to the server
(BEGIN, the read, two inserts, COMMIT), each costing the API process and the
server more than the statement itself does. An ``InsertWhere`` writes the row
only where a condition holds (the role, checked by the same statement), so
the read goes; and a command may hand it over as its *last* insert
(``Context.insert_last``): on PostgreSQL it is then held back and sent with
the rows of the command's event (see ``queue.enqueue``) as one statement. A
statement nothing else ran before in its transaction runs on its own, which
PostgreSQL makes atomic without BEGIN and COMMIT: one round trip in all.

When the condition does not hold nothing is written (the event's rows are
written only if the guarded row was) and the command's ``refused`` says why,
as an error. On SQLite (statements run inline, round trips cost nothing) the
insert runs at once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Insert, Table, bindparam, exists, insert, select

from hookline.storage.prepared import Prepared


class InsertWhere:
    """``INSERT INTO <table> (<columns>) SELECT <values> WHERE <condition>``,
    built once. The row's values are params named ``r_<column>``; the
    condition's own params are named by the caller (never ``r_``, ``e_`` or
    ``d<n>_``, which the fused statement uses)."""

    def __init__(self, table: Table, columns: Sequence[str], condition: ColumnElement[bool]):
        self.table = table
        self.columns = tuple(columns)
        self.condition = condition
        self.alone = Prepared(self.statement())

    def values(self) -> Any:
        """The SELECT of the row's values where the condition holds."""
        return select(
            *(bindparam(f"r_{c}", type_=self.table.c[c].type) for c in self.columns)
        ).where(self.condition)

    def statement(self) -> Insert:
        return insert(self.table).from_select(list(self.columns), self.values())

    def params(self, row: Mapping[str, Any], **condition: Any) -> dict[str, Any]:
        """A row (every column of ``columns``) and the condition's params."""
        return {**{f"r_{c}": row[c] for c in self.columns}, **condition}

    def guarded_cte(self) -> tuple[Any, ColumnElement[bool]]:
        """The insert as a data-modifying WITH, and a condition true only if
        it inserted its row (for what must be written with it)."""
        first = self.table.c[self.columns[0]]
        guarded = self.statement().returning(first).cte("guarded")
        return guarded, exists(select(guarded.c[first.name]))


@dataclass
class Pending:
    """An ``InsertWhere`` held back to be sent last (PostgreSQL), and what
    joined it: the statement and params of the rows written with it."""

    shape: InsertWhere
    params: dict[str, Any]
    # Raises the error a refused insert means (the caller's role, say).
    refused: Callable[[], Awaitable[None]]
    # What is sent in its place, once something joins it; its rowcount is
    # zero exactly when the condition did not hold.
    fused: Prepared | None = None
    fused_params: dict[str, Any] = field(default_factory=dict)

    async def send(self, conn: Any, *, last: bool) -> None:
        """Send it (with what joined it); raise through ``refused`` when the
        condition did not hold. ``last``: nothing runs after it in its
        transaction (see ``Prepared.run_last``)."""
        statement, params = self.shape.alone, self.params
        if self.fused is not None:
            statement, params = self.fused, {**self.params, **self.fused_params}
        touched = await (statement.run_last if last else statement.run)(conn, params)
        if not touched:
            await self.refused()
            raise RuntimeError("refused() returned")  # it must raise
