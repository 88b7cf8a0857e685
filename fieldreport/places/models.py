"""The gazetteer: named places that reports are described from ("4 km north-east of Arezzo")."""

from __future__ import annotations

from sqlalchemy import Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fieldreport.db import Base


class Place(Base):
    """One populated place of a GeoNames file (or its CSV extract); replaced as a whole."""

    __tablename__ = "places"
    __table_args__ = (Index("ix_places_latitude_longitude", "latitude", "longitude"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    country: Mapped[str] = mapped_column(String(2), default="")
    admin1: Mapped[str] = mapped_column(String(100), default="")
    population: Mapped[int | None] = mapped_column(Integer)
