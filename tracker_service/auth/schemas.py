"""What the sign-in, user and password forms carry (decoded like every request body)."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from tracker_service.lib.wire import Input

__all__ = [
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "PasswordChange",
    "PasswordReset",
    "SignInForm",
    "UserChoice",
    "UserCreate",
    "Username",
]

MIN_PASSWORD_LENGTH = 8
#: Long enough for any passphrase, short enough that hashing it costs nothing extra.
MAX_PASSWORD_LENGTH = 1024

Username = Annotated[
    str,
    Meta(
        pattern=r"^[A-Za-z0-9._-]{2,50}$",
        description="2-50 letters, digits, '.', '_' or '-'",
    ),
]
Password = Annotated[str, Meta(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)]


class SignInForm(Input, kw_only=True):
    username: Annotated[str, Meta(max_length=200)] = ""
    password: Annotated[str, Meta(max_length=MAX_PASSWORD_LENGTH)] = ""
    next: Annotated[str, Meta(max_length=2000)] = "/"


class UserCreate(Input, kw_only=True):
    username: Username
    password: Password
    role: Literal["admin", "staff"] = "staff"


class UserChoice(Input, kw_only=True):
    """Enable or disable a login (Settings → Users)."""

    username: Username
    enabled: bool = False


class PasswordReset(Input, kw_only=True):
    """An admin sets a new password for a user (Settings → Users)."""

    username: Username
    new_password: Password


class PasswordChange(Input, kw_only=True):
    """A user changes their own password (Account)."""

    current_password: Annotated[str, Meta(max_length=MAX_PASSWORD_LENGTH)]
    new_password: Password
