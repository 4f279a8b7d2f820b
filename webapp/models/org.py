"""The organisation: areas, stores, user accounts, settings, login attempts."""
from __future__ import annotations

from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .. import clock
from ..crypto import Encrypted
from ..extensions import db
from .base import Role, TZDateTime


class Area(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(db.String(80), unique=True)
    stores = relationship("Store", back_populates="area", order_by="Store.code")


class Store(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(db.String(20), unique=True)
    name: Mapped[str] = mapped_column(db.String(80))
    area_id: Mapped[int] = mapped_column(db.ForeignKey("area.id"), index=True)
    # Particulars the seeds' texts need ("地址：XX路XX专卖店"): message templates, call scripts and
    # printed forms fill them in; entered by the administrator.
    address: Mapped[str] = mapped_column(db.String(200), default="", server_default="")
    phone: Mapped[str] = mapped_column(db.String(40), default="", server_default="")
    opening_hours: Mapped[str] = mapped_column(db.String(80), default="", server_default="")
    opened_on: Mapped[date | None] = mapped_column(db.Date)
    area = relationship("Area", back_populates="stores")


class User(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(db.String(60), unique=True)
    display_name: Mapped[str] = mapped_column(db.String(60))
    password_hash: Mapped[str] = mapped_column(db.String(256), default="")
    role: Mapped[Role] = mapped_column(db.Enum(Role, native_enum=False, length=20))
    store_id: Mapped[int | None] = mapped_column(db.ForeignKey("store.id"), index=True)
    area_id: Mapped[int | None] = mapped_column(db.ForeignKey("area.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    must_change_password: Mapped[bool] = mapped_column(default=False)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(TZDateTime)
    locale: Mapped[str | None] = mapped_column(db.String(10))
    # Part of the login cookie's user id: logout and a password change move it on, so every
    # other cookie of this user (another browser, a copied cookie) no longer logs in.
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")
    # The daily task digest by e-mail too (the user's choice; SMTP settings from the environment).
    email = mapped_column(Encrypted)
    digest_by_mail: Mapped[bool] = mapped_column(default=False, server_default=db.false())
    store = relationship("Store")
    area = relationship("Area")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses sessions of deactivated users
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_epoch}"

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    @property
    def scope_area_id(self) -> int | None:
        """The area a store-level user belongs to, through their store."""
        return self.area_id or (self.store.area_id if self.store else None)


class Setting(db.Model):
    key: Mapped[str] = mapped_column(db.String(60), primary_key=True)
    value: Mapped[str] = mapped_column(db.Text)


class LoginAttempt(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(db.String(60), index=True)
    ip: Mapped[str] = mapped_column(db.String(45))
    ok: Mapped[bool] = mapped_column()
    at: Mapped[datetime] = mapped_column(TZDateTime, default=clock.now)
