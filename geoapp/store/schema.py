"""Table definitions (SQLAlchemy Core), shared by the store and by the Alembic migrations.

The migrations in ``geoapp/store/migrations/versions`` create exactly these tables; a test compares
an upgraded database against this metadata with Alembic's autogenerate and fails on any
difference.  Change both together: edit the tables here, then add a migration.

The PostGIS-only columns are not part of this metadata because SQLite has no equivalent.  On
PostgreSQL the migration adds them as generated columns (``area_versions.geom`` from
``geom_wkb`` and ``problems.geom`` from ``lon``/``lat``) with GiST indexes; the database fills
them, the store never writes them, and :func:`include_object` hides them from autogenerate.

Conventions:
- geometries are stored as 2-D WKB in EPSG:4326 (``geom_wkb``) in both backends;
- timestamps are :class:`UTCDateTime`: timezone-aware ``datetime`` in, UTC ``datetime`` out
  (``timestamptz`` on PostgreSQL, fixed-width ISO 8601 text with ``+00:00`` on SQLite, so that
  text order is time order);
- ``problem_events.detail`` is JSON text.
"""

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

#: Columns and indexes that exist only on PostgreSQL (created by the migration).
POSTGIS_ONLY_COLUMNS = frozenset({("area_versions", "geom"), ("problems", "geom")})
POSTGIS_ONLY_INDEXES = frozenset({"ix_area_versions_geom", "ix_problems_geom"})
#: Columns the database keeps itself (migration 0008: a trigger on problem_events), read by
#: the ledger's queries only (:data:`problems_rectified_at`), and the indexes over them.
HIDDEN_COLUMNS = frozenset({("problems", "rectified_at")})
HIDDEN_INDEXES = frozenset(
    {"ix_problems_ledger", "ix_problems_ledger_days", "ix_problems_ledger_closed"}
)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A point in time: aware datetimes in, aware UTC datetimes out.

    Naive datetimes are refused: the store cannot know which zone they were meant in.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String(32))
        return dialect.type_descriptor(sa.DateTime(timezone=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.utcoffset() is None:
            raise ValueError(f"expected a timezone-aware datetime, got {value!r}")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.isoformat(timespec="microseconds")
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value.utcoffset() is None:  # pragma: no cover - only if written behind our back
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


Text = sa.Text
Double = sa.Double

units = sa.Table(
    "units",
    metadata,
    sa.Column("unit_id", Text, primary_key=True),
    sa.Column("name", Text, nullable=False),
    sa.Column("kind", Text),
    sa.Column("contact", Text),
    sa.Column("phone", Text),
    sa.Column("lon", Double),
    sa.Column("lat", Double),
    # Informative only (districts.lead_unit_id is the reference); no FK, to avoid a cycle.
    sa.Column("lead_district_id", Text),
)

districts = sa.Table(
    "districts",
    metadata,
    sa.Column("district_id", Text, primary_key=True),
    sa.Column("name", Text, nullable=False),
    sa.Column("lead_unit_id", Text, sa.ForeignKey("units.unit_id")),
)

categories = sa.Table(
    "categories",
    metadata,
    sa.Column("category", Text, primary_key=True),
    sa.Column("name_zh", Text),
    sa.Column("name_en", Text),
    sa.Column("deadline_hours", sa.Integer),
)

rules = sa.Table(
    "rules",
    metadata,
    sa.Column("rule_id", Text, primary_key=True),
    sa.Column("priority", sa.Integer, nullable=False),
    # NULL category: the rule applies to every category (e.g. by area kind).
    sa.Column("category", Text, sa.ForeignKey("categories.category")),
    sa.Column("area_kind", Text),
    sa.Column("unit_id", Text, sa.ForeignKey("units.unit_id"), nullable=False),
    sa.Column("note", Text),
)

generations = sa.Table(
    "generations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("status", Text, nullable=False),
    sa.Column("author", Text),
    sa.Column("message", Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("published_at", UTCDateTime),
    sa.Column("published_by", Text),
    sa.Column("publish_message", Text),
    sa.Column("parent_id", sa.Integer, sa.ForeignKey("generations.id")),
    sa.Column("version", sa.Integer, nullable=False),
    sa.CheckConstraint("status IN ('draft', 'published')", name="status"),
    sqlite_autoincrement=True,
)

areas = sa.Table(
    "areas",
    metadata,
    sa.Column("area_id", Text, primary_key=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

area_versions = sa.Table(
    "area_versions",
    metadata,
    sa.Column(
        "generation_id",
        sa.Integer,
        sa.ForeignKey("generations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("area_id", Text, sa.ForeignKey("areas.area_id"), primary_key=True),
    sa.Column("name", Text, nullable=False),
    sa.Column("kind", Text),
    sa.Column("district_id", Text, sa.ForeignKey("districts.district_id")),
    sa.Column("responsible_unit_id", Text, sa.ForeignKey("units.unit_id")),
    sa.Column("geom_wkb", sa.LargeBinary, nullable=False),
    sa.Index(None, "area_id"),
)

_HAS_CLIENT = sa.text("client_id IS NOT NULL")
problems = sa.Table(
    "problems",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("problem_id", Text, nullable=False, unique=True),
    sa.Column("round", Text),
    sa.Column("category", Text),
    sa.Column("description", Text),
    sa.Column("deduction", Double, nullable=False),
    sa.Column("reported_at", UTCDateTime, nullable=False),
    sa.Column("status", Text, nullable=False),
    sa.Column("reporter", Text),
    sa.Column("lon", Double),
    sa.Column("lat", Double),
    sa.Column("source_crs", Text),
    sa.Column("source_x", Double),
    sa.Column("source_y", Double),
    # The assignment; all NULL = unassigned.  No FK on rule_id: rules are replaced as a set
    # and a problem keeps the id of the rule that applied when it was assigned.
    sa.Column("generation_id", sa.Integer, sa.ForeignKey("generations.id")),
    sa.Column("district_id", Text, sa.ForeignKey("districts.district_id")),
    sa.Column("area_id", Text, sa.ForeignKey("areas.area_id")),
    sa.Column("responsible_unit_id", Text, sa.ForeignKey("units.unit_id")),
    sa.Column("lead_unit_id", Text, sa.ForeignKey("units.unit_id")),
    sa.Column("rule_id", Text),
    sa.Column("duplicate_of", sa.Integer, sa.ForeignKey("problems.id")),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    # migration 0007: the id a phone gave the report (a retry with it answers the problem
    # already stored) and the radius in metres of the phone's position fix
    sa.Column("client_id", Text),
    sa.Column("location_accuracy_m", Double),
    # reported_at and responsible_unit_id lead the ledger's indexes (0010: none of their own)
    sa.Index(None, "round"),
    sa.Index(None, "category"),
    sa.Index(None, "status"),
    sa.Index(None, "generation_id"),
    sa.Index(None, "district_id"),
    sa.Index(None, "area_id"),
    sa.Index(None, "lead_unit_id"),
    sa.Index(None, "lon", "lat"),
    # only the phones' reports carry a client id (migration 0010: imported rows add no entry)
    sa.Index(
        None, "client_id", unique=True, sqlite_where=_HAS_CLIENT, postgresql_where=_HAS_CLIENT
    ),
    sqlite_autoincrement=True,
)

#: ``problems.rectified_at`` (migration 0008): when the problem's latest "status" event to
#: ``rectified`` was recorded, NULL when none.  Kept by the database (a trigger on
#: problem_events; a bulk import inserts it with its event's time: migration 0011), not in
#: ``problems.c`` (reads of whole problems do not carry it): the ledger's queries read it.
problems_rectified_at = sa.literal_column("problems.rectified_at", UTCDateTime())

problem_events = sa.Table(
    "problem_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "problem_pk",
        sa.Integer,
        sa.ForeignKey("problems.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor", Text),
    sa.Column("kind", Text, nullable=False),
    sa.Column("detail", Text),
    sa.Column("note", Text),
    sa.Index(None, "problem_pk"),
)


# One edit of a draft generation, for undo/redo: the rows of the areas it touched before
# and after (JSON lists of area rows, geometry as WKB hex).  ``undone`` edits are the redo
# stack; a new edit drops them.
draft_edits = sa.Table(
    "draft_edits",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "generation_id",
        sa.Integer,
        sa.ForeignKey("generations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor", Text),
    sa.Column("op", Text, nullable=False),
    sa.Column("before", Text, nullable=False),
    sa.Column("after", Text, nullable=False),
    sa.Column("undone", sa.Integer, nullable=False),
    sa.Index(None, "generation_id"),
)


problem_photos = sa.Table(
    "problem_photos",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "problem_pk",
        sa.Integer,
        sa.ForeignKey("problems.id", ondelete="CASCADE"),
        nullable=False,
    ),
    # the file's name under instance/photos/, chosen by the server (random, never the client's)
    sa.Column("stored_name", Text, nullable=False, unique=True),
    sa.Column("content_type", Text, nullable=False),
    sa.Column("size_bytes", sa.Integer, nullable=False),
    sa.Column("sha256", Text, nullable=False),
    sa.Column("original_name", Text),
    sa.Column("uploaded_at", UTCDateTime, nullable=False),
    sa.Column("uploaded_by", Text),
    # migration 0007: "after" for a photo of the rectified place; NULL for the others
    sa.Column("stage", Text),
    sa.Index(None, "problem_pk"),
    sqlite_autoincrement=True,
)


# --- accounts, API tokens, audit log (migration 0005_accounts) ---------------------------
users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", Text, nullable=False, unique=True),
    sa.Column("password_hash", Text, nullable=False),
    sa.Column("role", Text, nullable=False),
    # the unit a "unit" account speaks for; NULL for every other role
    sa.Column("unit_id", Text, sa.ForeignKey("units.unit_id")),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    # the secret every sign-in session of the user carries (migration 0006); NULL: none is
    # valid.  Cleared by signing out, deactivation and a password change (ends them all)
    sa.Column("session_token", Text),
    sqlite_autoincrement=True,
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", Text, nullable=False, unique=True),
    # SHA-256 hex of the token; the token itself is shown once and never stored
    sa.Column("token_hash", Text, nullable=False, unique=True),
    sa.Column("role", Text, nullable=False),
    sa.Column("unit_id", Text, sa.ForeignKey("units.unit_id")),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sqlite_autoincrement=True,
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor", Text),
    sa.Column("action", Text, nullable=False),
    sa.Column("target", Text),
    # JSON text (or NULL)
    sa.Column("before", Text),
    sa.Column("after", Text),
    sa.Index(None, "at"),
    sa.Index(None, "action"),
    sqlite_autoincrement=True,
)


# --- failed sign-ins, shared by every worker and server (migration 0006) -------------------
login_attempts = sa.Table(
    "login_attempts",
    metadata,
    # "name:<lower-case name>", "addr:<client address>" or "device:<device id>"
    sa.Column("key", Text, primary_key=True),
    # failures since window_start (reset when the window has passed or a lock begins)
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("window_start", UTCDateTime, nullable=False),
    # locks so far in a row (the next one lasts twice as long, up to a cap) and the end of
    # the current one (NULL: never locked)
    sa.Column("lockouts", sa.Integer, nullable=False),
    sa.Column("locked_until", UTCDateTime),
)


# --- inspection points, visits, patrol check-ins (migration 0008_coverage) ---------------
# A register of the places an assessment may inspect (受检点).  ``lon``/``lat`` is the point
# assignment uses (a polygon's representative point); ``geom_wkb`` the shape as registered
# (a point or a polygon).  The assignment columns are the point's current ones, set by the
# same spatial assignment as problems and changed when boundaries are published; every
# change is kept in ``inspection_point_history``.
inspection_points = sa.Table(
    "inspection_points",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("point_id", Text, nullable=False, unique=True),
    sa.Column("name", Text, nullable=False),
    sa.Column("kind", Text, nullable=False),
    sa.Column("lon", Double, nullable=False),
    sa.Column("lat", Double, nullable=False),
    sa.Column("geom_wkb", sa.LargeBinary, nullable=False),
    sa.Column("source_crs", Text),
    sa.Column("note", Text),
    sa.Column("generation_id", sa.Integer, sa.ForeignKey("generations.id")),
    sa.Column("district_id", Text, sa.ForeignKey("districts.district_id")),
    sa.Column("area_id", Text, sa.ForeignKey("areas.area_id")),
    sa.Column("responsible_unit_id", Text, sa.ForeignKey("units.unit_id")),
    sa.Column("lead_unit_id", Text, sa.ForeignKey("units.unit_id")),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index(None, "kind"),
    sa.Index(None, "district_id"),
    sa.Index(None, "area_id"),
    sa.Index(None, "responsible_unit_id"),
    sqlite_autoincrement=True,
)

inspection_point_history = sa.Table(
    "inspection_point_history",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "point_pk",
        sa.Integer,
        sa.ForeignKey("inspection_points.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor", Text),
    # "registered", "edited" or "reassigned"; detail: JSON {"before": ..., "after": ...}
    sa.Column("kind", Text, nullable=False),
    sa.Column("detail", Text),
    sa.Column("note", Text),
    sa.Index(None, "point_pk"),
    sqlite_autoincrement=True,
)

# One inspection of a point in a round.  ``result`` "clean" (达标) or "problems"; the problems
# found are ordinary problems linked in ``inspection_visit_problems``.  ``local_date`` is the
# Beijing date of ``visited_at`` (days are counted in SQL the same way on both backends).
inspection_visits = sa.Table(
    "inspection_visits",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "point_pk",
        sa.Integer,
        sa.ForeignKey("inspection_points.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("round", Text, nullable=False),
    sa.Column("visited_at", UTCDateTime, nullable=False),
    sa.Column("local_date", Text, nullable=False),
    sa.Column("inspector", Text),
    sa.Column("result", Text, nullable=False),
    sa.Column("note", Text),
    sa.Column("lon", Double),
    sa.Column("lat", Double),
    sa.Column("location_accuracy_m", Double),
    sa.Column("client_id", Text),
    sa.Column("photo_name", Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("result IN ('clean', 'problems')", name="result"),
    sa.Index(None, "point_pk"),
    sa.Index(None, "round"),
    sa.Index(None, "client_id", unique=True),
    sqlite_autoincrement=True,
)

inspection_visit_problems = sa.Table(
    "inspection_visit_problems",
    metadata,
    sa.Column(
        "visit_id",
        sa.Integer,
        sa.ForeignKey("inspection_visits.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column(
        "problem_pk",
        sa.Integer,
        sa.ForeignKey("problems.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Index(None, "problem_pk", unique=True),
)

# A unit's staff checking in while patrolling one of its areas (巡查签到).  ``distance_m``:
# metres from the phone's position to the area (0 inside); ``local_date``: the Beijing date.
patrol_checkins = sa.Table(
    "patrol_checkins",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("client_id", Text, nullable=False, unique=True),
    sa.Column("unit_id", Text, sa.ForeignKey("units.unit_id"), nullable=False),
    sa.Column("area_id", Text, sa.ForeignKey("areas.area_id"), nullable=False),
    sa.Column("account", Text),
    sa.Column("checked_at", UTCDateTime, nullable=False),
    sa.Column("local_date", Text, nullable=False),
    sa.Column("lon", Double, nullable=False),
    sa.Column("lat", Double, nullable=False),
    sa.Column("accuracy_m", Double),
    sa.Column("distance_m", Double, nullable=False),
    sa.Column("photo_name", Text),
    sa.Column("note", Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Index(None, "unit_id"),
    sa.Index(None, "area_id"),
    sa.Index(None, "local_date"),
    sqlite_autoincrement=True,
)


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic filter: compare only our own tables (not PostGIS's ``spatial_ref_sys`` &c.)."""
    if type_ == "table":
        return name in metadata.tables
    return True


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic filter: ignore the PostGIS-only generated columns and their GiST indexes, and
    the columns and indexes the database keeps for the ledger (:data:`HIDDEN_COLUMNS`)."""
    if type_ == "column" and reflected and compare_to is None:
        return (obj.table.name, name) not in POSTGIS_ONLY_COLUMNS | HIDDEN_COLUMNS
    if type_ == "index" and reflected and compare_to is None:
        return name not in POSTGIS_ONLY_INDEXES | HIDDEN_INDEXES
    return True
