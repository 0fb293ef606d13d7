"""The coverage register's export (受检点台账) at the size of a city: one row per visit,
read with a fixed number of queries however many visits and problems the round holds."""

from __future__ import annotations

import sqlalchemy as sa

from geoapp.services import coverage_figures, coverage_files
from geoapp.store import open_store


def test_visit_rows_read_the_problems_of_every_visit_at_once(demo_url):
    statements: list[str] = []

    def record(conn, cursor, statement, *rest) -> None:
        statements.append(statement)

    with open_store(demo_url) as store:
        cov = coverage_figures.build(store, {})
        assert len([v for v in store.visits(cov.round) if v["problem_pks"]]) >= 5
        sa.event.listen(store.engine, "before_cursor_execute", record)
        try:
            rows = coverage_files.visit_rows(store, cov, {})
        finally:
            sa.event.remove(store.engine, "before_cursor_execute", record)
        # a fixed number of reads (units, visits, their links, their problems), not one per
        # problem: a round of thousands of visits is one pass
        reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
        assert len(reads) <= 5, reads
        assert len([s for s in reads if "FROM problems" in s]) == 1, reads
        # each row's deduction and problem codes, read here one problem at a time
        wanted = {p["point_pk"] for p in cov.points}
        expected = []
        for v in store.visits(cov.round):
            if v["point_pk"] in wanted:
                problems = [store.get_problem(pk) for pk in v["problem_pks"]]
                points = sum(p["deduction"] for p in problems if p["duplicate_of"] is None)
                expected.append((points, "、".join(p["problem_id"] for p in problems)))
        assert [(r[7], r[8]) for r in rows[1:]] == expected
        assert any(codes for _, codes in expected)
