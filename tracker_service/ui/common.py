"""What every page shares: the session from the cookie, CSRF checks, form parsing, rendering."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

from litestar import Request, Response
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from tracker_service.auth.sessions import Session
from tracker_service.lib.errors import Forbidden, InvalidInput, TrackerError
from tracker_service.services import Services

__all__ = [
    "COOKIE",
    "FormData",
    "LoginRequired",
    "admin_session",
    "check_csrf",
    "page",
    "redirect",
    "session_of",
    "submit",
]

COOKIE = "prt_session"
AnyRequest = Request[Any, Any, Any]
FormData = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
T = TypeVar("T")


class LoginRequired(Exception):
    """No valid session: the page sends the browser to the login form."""


def services_of(request: AnyRequest) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def session_of(request: AnyRequest) -> Session:
    session = services_of(request).sessions.get(request.cookies.get(COOKIE))
    if session is None:
        raise LoginRequired
    return session


def admin_session(request: AnyRequest) -> Session:
    session = session_of(request)
    if not session.is_admin:
        raise Forbidden("this page is for admins")
    return session


def check_csrf(session: Session, form: Mapping[str, str]) -> None:
    if not hmac.compare_digest(form.get("csrf_token", ""), session.csrf_token):
        raise Forbidden(
            "the form was not sent from this site (missing or wrong CSRF token); "
            "reload the page and try again"
        )


def page(
    request: AnyRequest,
    template: str,
    session: Session | None,
    *,
    status: int = 200,
    **context: Any,
) -> Template:
    return Template(
        template_name=template,
        context={
            "session": session,
            "metrc": services_of(request).metrc.status() if session else None,
            "message": request.query_params.get("msg"),
            "path": request.url.path,
            "errors": {},
            "form": {},
            **context,
        },
        status_code=status,
    )


def redirect(path: str, message: str | None = None) -> Redirect:
    """303 to ``path`` (which may end in a ``#fragment``) with the message to flash."""
    where, hash_mark, fragment = path.partition("#")
    query = f"?msg={quote(message)}" if message else ""
    return Redirect(where + query + hash_mark + fragment, status_code=303)


def submit(
    request: AnyRequest,
    form: Mapping[str, str],
    action: Callable[[Session], T],
    on_error: Callable[[dict[str, str], int], Response[Any]],
) -> T | Response[Any]:
    """Run a form action: CSRF first; bad input re-renders the form with the error by the
    field (any other refusal above it), with the status the JSON API would answer."""
    session = session_of(request)
    check_csrf(session, form)
    try:
        return action(session)
    except InvalidInput as exc:
        return on_error({exc.field: exc.problem}, exc.status_code)
    except TrackerError as exc:
        if isinstance(exc, Forbidden):
            raise
        return on_error({"_form": exc.detail}, exc.status_code)
