"""An index of stored artifacts in the database: what exists, how big, of what kind.

The store itself needs no index (an artifact's name is its hash); the index is
for people and tools: list the shards or models a run produced, find an
artifact's URI from its sha256, and later collect garbage. Recording is
idempotent, so a redelivered event that records the same artifact again
changes nothing. The table is created by migration ``0001_initial``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, String, Text, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from ringrift.storage.artifacts import ArtifactRef
from ringrift.storage.database import Base


class ArtifactRecord(Base):
    """One stored artifact."""

    __tablename__ = "artifacts"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    uri: Mapped[str] = mapped_column(Text)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    """What it is, e.g. ``model`` or ``shard``."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())

    def ref(self) -> ArtifactRef:
        return ArtifactRef(uri=self.uri, sha256=self.sha256, size=self.size_bytes)


def record_artifact(session: Session, ref: ArtifactRef, kind: str) -> None:
    """Add ``ref`` to the index unless its sha256 is there already."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(ArtifactRecord).values(
        sha256=ref.sha256, uri=ref.uri, size_bytes=ref.size, kind=kind,
    ).on_conflict_do_nothing(index_elements=["sha256"])
    session.execute(statement)


def find_artifact(session: Session, sha256: str) -> ArtifactRef | None:
    """The indexed artifact with this sha256, or None."""
    record = session.get(ArtifactRecord, sha256)
    return record.ref() if record else None


def list_artifacts(session: Session, kind: str | None = None) -> Sequence[ArtifactRecord]:
    """Indexed artifacts, oldest first, optionally of one kind."""
    query = select(ArtifactRecord).order_by(ArtifactRecord.created_at, ArtifactRecord.sha256)
    if kind is not None:
        query = query.where(ArtifactRecord.kind == kind)
    return session.scalars(query).all()
