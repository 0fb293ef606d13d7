"""Initial schema: units, districts, categories, rules, generations, areas, problems.

Revision ID: 0001
Revises:
Create Date: 2026-11-29

On PostgreSQL this also enables PostGIS and adds generated geometry columns with GiST
indexes: ``area_versions.geom`` (from ``geom_wkb``) and ``problems.geom`` (from lon/lat).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy of geoapp.store.schema.UTCDateTime's storage: timestamptz on PostgreSQL,
# fixed-width ISO 8601 text on SQLite.
TIMESTAMP = sa.DateTime(timezone=True).with_variant(sa.String(32), "sqlite")


def upgrade() -> None:
    is_postgres = op.get_bind().dialect.name == "postgresql"
    if is_postgres:
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")

    op.create_table(
        "units",
        sa.Column("unit_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=True),
        sa.Column("contact", sa.Text(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("lon", sa.Double(), nullable=True),
        sa.Column("lat", sa.Double(), nullable=True),
        sa.Column("lead_district_id", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("unit_id", name="pk_units"),
    )
    op.create_table(
        "districts",
        sa.Column("district_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("lead_unit_id", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["lead_unit_id"], ["units.unit_id"], name="fk_districts_lead_unit_id_units"
        ),
        sa.PrimaryKeyConstraint("district_id", name="pk_districts"),
    )
    op.create_table(
        "categories",
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("name_zh", sa.Text(), nullable=True),
        sa.Column("name_en", sa.Text(), nullable=True),
        sa.Column("deadline_hours", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("category", name="pk_categories"),
    )
    op.create_table(
        "rules",
        sa.Column("rule_id", sa.Text(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("category", sa.Text(), nullable=True),
        sa.Column("area_kind", sa.Text(), nullable=True),
        sa.Column("unit_id", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["category"], ["categories.category"], name="fk_rules_category_categories"
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.unit_id"], name="fk_rules_unit_id_units"),
        sa.PrimaryKeyConstraint("rule_id", name="pk_rules"),
    )
    op.create_table(
        "generations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("author", sa.Text(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("published_at", TIMESTAMP, nullable=True),
        sa.Column("published_by", sa.Text(), nullable=True),
        sa.Column("publish_message", sa.Text(), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("status IN ('draft', 'published')", name="ck_generations_status"),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["generations.id"], name="fk_generations_parent_id_generations"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_generations"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "areas",
        sa.Column("area_id", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("area_id", name="pk_areas"),
    )
    op.create_table(
        "area_versions",
        sa.Column("generation_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=True),
        sa.Column("district_id", sa.Text(), nullable=True),
        sa.Column("responsible_unit_id", sa.Text(), nullable=True),
        sa.Column("geom_wkb", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["generation_id"],
            ["generations.id"],
            name="fk_area_versions_generation_id_generations",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.area_id"], name="fk_area_versions_area_id_areas"
        ),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["districts.district_id"],
            name="fk_area_versions_district_id_districts",
        ),
        sa.ForeignKeyConstraint(
            ["responsible_unit_id"],
            ["units.unit_id"],
            name="fk_area_versions_responsible_unit_id_units",
        ),
        sa.PrimaryKeyConstraint("generation_id", "area_id", name="pk_area_versions"),
    )
    op.create_index("ix_area_versions_area_id", "area_versions", ["area_id"])

    op.create_table(
        "problems",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("problem_id", sa.Text(), nullable=False),
        sa.Column("round", sa.Text(), nullable=True),
        sa.Column("category", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("deduction", sa.Double(), nullable=False),
        sa.Column("reported_at", TIMESTAMP, nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("reporter", sa.Text(), nullable=True),
        sa.Column("lon", sa.Double(), nullable=True),
        sa.Column("lat", sa.Double(), nullable=True),
        sa.Column("source_crs", sa.Text(), nullable=True),
        sa.Column("source_x", sa.Double(), nullable=True),
        sa.Column("source_y", sa.Double(), nullable=True),
        sa.Column("generation_id", sa.Integer(), nullable=True),
        sa.Column("district_id", sa.Text(), nullable=True),
        sa.Column("area_id", sa.Text(), nullable=True),
        sa.Column("responsible_unit_id", sa.Text(), nullable=True),
        sa.Column("lead_unit_id", sa.Text(), nullable=True),
        sa.Column("rule_id", sa.Text(), nullable=True),
        sa.Column("duplicate_of", sa.Integer(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["generation_id"], ["generations.id"], name="fk_problems_generation_id_generations"
        ),
        sa.ForeignKeyConstraint(
            ["district_id"], ["districts.district_id"], name="fk_problems_district_id_districts"
        ),
        sa.ForeignKeyConstraint(["area_id"], ["areas.area_id"], name="fk_problems_area_id_areas"),
        sa.ForeignKeyConstraint(
            ["responsible_unit_id"],
            ["units.unit_id"],
            name="fk_problems_responsible_unit_id_units",
        ),
        sa.ForeignKeyConstraint(
            ["lead_unit_id"], ["units.unit_id"], name="fk_problems_lead_unit_id_units"
        ),
        sa.ForeignKeyConstraint(
            ["duplicate_of"], ["problems.id"], name="fk_problems_duplicate_of_problems"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_problems"),
        sa.UniqueConstraint("problem_id", name="uq_problems_problem_id"),
        sqlite_autoincrement=True,
    )
    for columns in (
        ["round"],
        ["category"],
        ["status"],
        ["reported_at"],
        ["generation_id"],
        ["district_id"],
        ["area_id"],
        ["responsible_unit_id"],
        ["lead_unit_id"],
        ["lon", "lat"],
    ):
        op.create_index(f"ix_problems_{'_'.join(columns)}", "problems", columns)

    op.create_table(
        "problem_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("problem_pk", sa.Integer(), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("actor", sa.Text(), nullable=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["problem_pk"],
            ["problems.id"],
            name="fk_problem_events_problem_pk_problems",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_problem_events"),
    )
    op.create_index("ix_problem_events_problem_pk", "problem_events", ["problem_pk"])

    if is_postgres:
        op.execute(
            "ALTER TABLE area_versions ADD COLUMN geom geometry(Geometry, 4326) "
            "GENERATED ALWAYS AS (ST_GeomFromWKB(geom_wkb, 4326)) STORED"
        )
        op.execute("CREATE INDEX ix_area_versions_geom ON area_versions USING gist (geom)")
        op.execute(
            "ALTER TABLE problems ADD COLUMN geom geometry(Point, 4326) "
            "GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED"
        )
        op.execute("CREATE INDEX ix_problems_geom ON problems USING gist (geom)")


def downgrade() -> None:
    # The postgis extension is left in place: other schemas may use it.
    for table in (
        "problem_events",
        "problems",
        "area_versions",
        "areas",
        "generations",
        "rules",
        "categories",
        "districts",
        "units",
    ):
        op.drop_table(table)
