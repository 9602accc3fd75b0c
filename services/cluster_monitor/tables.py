"""The cluster monitor's own tables (migrated by ``services/cluster_monitor/migrations/``).

``nodes`` holds what the monitor knows of each node: its latest report, the level of
each resource (the levels are state: hysteresis needs the level held before) and
whether it is lost. ``pressure_changes`` is the history of every level change and every
loss and return of a node. ``status_publications`` remembers the verdict last published,
so that a status whose verdict is unchanged is not published again before its refresh.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, Integer, LargeBinary, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """The cluster monitor's tables."""


class NodeRow(Base):
    """One node: its latest report and its levels."""

    __tablename__ = "nodes"

    node_id: Mapped[str] = mapped_column(String(253), primary_key=True)
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    """When the agent took its latest report (the agent's clock)."""
    interval_s: Mapped[float] = mapped_column(Float)
    report: Mapped[bytes] = mapped_column(LargeBinary)
    """The latest NodeStatus, serialized."""
    disk_level: Mapped[int] = mapped_column(Integer)
    memory_level: Mapped[int] = mapped_column(Integer)
    cpu_level: Mapped[int] = mapped_column(Integer)
    gpu_memory_level: Mapped[int] = mapped_column(Integer)
    lost: Mapped[bool] = mapped_column(Boolean)
    lost_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PressureChange(Base):
    """A level change of one resource of one node, or a node lost (``heartbeat`` 2) or back."""

    __tablename__ = "pressure_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    node_id: Mapped[str] = mapped_column(String(253), index=True)
    resource: Mapped[str] = mapped_column(String(32))
    old_level: Mapped[int] = mapped_column(Integer)
    new_level: Mapped[int] = mapped_column(Integer)
    value: Mapped[float] = mapped_column(Float)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StatusPublication(Base):
    """The last ClusterStatus published (one row, id 1)."""

    __tablename__ = "status_publications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    """Its verdict (levels, losses, deferrals, batch sizes; :func:`status.verdict`)."""
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    publications: Mapped[int] = mapped_column(Integer)
