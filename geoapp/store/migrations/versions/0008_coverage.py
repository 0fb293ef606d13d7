"""Inspection coverage: the register of inspection points (受检点) with their assignment
history, inspection visits (with the problems they found) and units' patrol check-ins (巡查签到).

Revision ID: 0008_coverage
Revises: 0007_field_reports
Create Date: 2026-12-07

``inspection_points``: name, kind, shape (point or polygon, WKB) and the point assignment uses,
with the current assignment (district, area, responsible and lead unit, generation);
``inspection_point_history``: every registration, edit and re-assignment.
``inspection_visits``: one inspection of a point in a round, clean or with problems, linked
to the problems in ``inspection_visit_problems``.  ``patrol_checkins``: a unit's check-in in
one of its areas (client_id unique: a phone's retry is answered with the stored one).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_coverage"
down_revision: str | None = "0007_field_reports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy of geoapp.store.schema.UTCDateTime's storage.
TIMESTAMP = sa.DateTime(timezone=True).with_variant(sa.String(32), "sqlite")


def upgrade() -> None:
    op.create_table(
        "patrol_checkins",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("client_id", sa.Text(), nullable=False),
        sa.Column("unit_id", sa.Text(), nullable=False),
        sa.Column("area_id", sa.Text(), nullable=False),
        sa.Column("account", sa.Text(), nullable=True),
        sa.Column("checked_at", TIMESTAMP, nullable=False),
        sa.Column("local_date", sa.Text(), nullable=False),
        sa.Column("lon", sa.Double(), nullable=False),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("accuracy_m", sa.Double(), nullable=True),
        sa.Column("distance_m", sa.Double(), nullable=False),
        sa.Column("photo_name", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.area_id"], name=op.f("fk_patrol_checkins_area_id_areas")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.unit_id"], name=op.f("fk_patrol_checkins_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_checkins")),
        sa.UniqueConstraint("client_id", name=op.f("uq_patrol_checkins_client_id")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_patrol_checkins_area_id"), "patrol_checkins", ["area_id"], unique=False
    )
    op.create_index(
        op.f("ix_patrol_checkins_local_date"), "patrol_checkins", ["local_date"], unique=False
    )
    op.create_index(
        op.f("ix_patrol_checkins_unit_id"), "patrol_checkins", ["unit_id"], unique=False
    )
    op.create_table(
        "inspection_points",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("point_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("lon", sa.Double(), nullable=False),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("geom_wkb", sa.LargeBinary(), nullable=False),
        sa.Column("source_crs", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("generation_id", sa.Integer(), nullable=True),
        sa.Column("district_id", sa.Text(), nullable=True),
        sa.Column("area_id", sa.Text(), nullable=True),
        sa.Column("responsible_unit_id", sa.Text(), nullable=True),
        sa.Column("lead_unit_id", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.area_id"], name=op.f("fk_inspection_points_area_id_areas")
        ),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["districts.district_id"],
            name=op.f("fk_inspection_points_district_id_districts"),
        ),
        sa.ForeignKeyConstraint(
            ["generation_id"],
            ["generations.id"],
            name=op.f("fk_inspection_points_generation_id_generations"),
        ),
        sa.ForeignKeyConstraint(
            ["lead_unit_id"],
            ["units.unit_id"],
            name=op.f("fk_inspection_points_lead_unit_id_units"),
        ),
        sa.ForeignKeyConstraint(
            ["responsible_unit_id"],
            ["units.unit_id"],
            name=op.f("fk_inspection_points_responsible_unit_id_units"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_points")),
        sa.UniqueConstraint("point_id", name=op.f("uq_inspection_points_point_id")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_inspection_points_area_id"), "inspection_points", ["area_id"], unique=False
    )
    op.create_index(
        op.f("ix_inspection_points_district_id"), "inspection_points", ["district_id"], unique=False
    )
    op.create_index(op.f("ix_inspection_points_kind"), "inspection_points", ["kind"], unique=False)
    op.create_index(
        op.f("ix_inspection_points_responsible_unit_id"),
        "inspection_points",
        ["responsible_unit_id"],
        unique=False,
    )
    op.create_table(
        "inspection_point_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("point_pk", sa.Integer(), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("actor", sa.Text(), nullable=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["point_pk"],
            ["inspection_points.id"],
            name=op.f("fk_inspection_point_history_point_pk_inspection_points"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_point_history")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_inspection_point_history_point_pk"),
        "inspection_point_history",
        ["point_pk"],
        unique=False,
    )
    op.create_table(
        "inspection_visits",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("point_pk", sa.Integer(), nullable=False),
        sa.Column("round", sa.Text(), nullable=False),
        sa.Column("visited_at", TIMESTAMP, nullable=False),
        sa.Column("local_date", sa.Text(), nullable=False),
        sa.Column("inspector", sa.Text(), nullable=True),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("lon", sa.Double(), nullable=True),
        sa.Column("lat", sa.Double(), nullable=True),
        sa.Column("location_accuracy_m", sa.Double(), nullable=True),
        sa.Column("client_id", sa.Text(), nullable=True),
        sa.Column("photo_name", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "result IN ('clean', 'problems')", name=op.f("ck_inspection_visits_result")
        ),
        sa.ForeignKeyConstraint(
            ["point_pk"],
            ["inspection_points.id"],
            name=op.f("fk_inspection_visits_point_pk_inspection_points"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_visits")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_inspection_visits_client_id"), "inspection_visits", ["client_id"], unique=True
    )
    op.create_index(
        op.f("ix_inspection_visits_point_pk"), "inspection_visits", ["point_pk"], unique=False
    )
    op.create_index(
        op.f("ix_inspection_visits_round"), "inspection_visits", ["round"], unique=False
    )
    op.create_table(
        "inspection_visit_problems",
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("problem_pk", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["problem_pk"],
            ["problems.id"],
            name=op.f("fk_inspection_visit_problems_problem_pk_problems"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["inspection_visits.id"],
            name=op.f("fk_inspection_visit_problems_visit_id_inspection_visits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "visit_id", "problem_pk", name=op.f("pk_inspection_visit_problems")
        ),
    )
    op.create_index(
        op.f("ix_inspection_visit_problems_problem_pk"),
        "inspection_visit_problems",
        ["problem_pk"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_inspection_visit_problems_problem_pk"), table_name="inspection_visit_problems"
    )
    op.drop_table("inspection_visit_problems")
    op.drop_index(op.f("ix_inspection_visits_round"), table_name="inspection_visits")
    op.drop_index(op.f("ix_inspection_visits_point_pk"), table_name="inspection_visits")
    op.drop_index(op.f("ix_inspection_visits_client_id"), table_name="inspection_visits")
    op.drop_table("inspection_visits")
    op.drop_index(
        op.f("ix_inspection_point_history_point_pk"), table_name="inspection_point_history"
    )
    op.drop_table("inspection_point_history")
    op.drop_index(op.f("ix_inspection_points_responsible_unit_id"), table_name="inspection_points")
    op.drop_index(op.f("ix_inspection_points_kind"), table_name="inspection_points")
    op.drop_index(op.f("ix_inspection_points_district_id"), table_name="inspection_points")
    op.drop_index(op.f("ix_inspection_points_area_id"), table_name="inspection_points")
    op.drop_table("inspection_points")
    op.drop_index(op.f("ix_patrol_checkins_unit_id"), table_name="patrol_checkins")
    op.drop_index(op.f("ix_patrol_checkins_local_date"), table_name="patrol_checkins")
    op.drop_index(op.f("ix_patrol_checkins_area_id"), table_name="patrol_checkins")
    op.drop_table("patrol_checkins")
