"""Flask extensions, created unbound; `factory.build_app` binds them to an application."""

from functools import cached_property
from typing import TYPE_CHECKING, Any

import flask_babel
import flask_limiter
from flask import g
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names, so that migrations can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class RequestDomain(flask_babel.Domain):
    """Flask-Babel's message domain, with the catalogue looked up once per request.

    Flask-Babel finds the request's catalogue again on every gettext call (a dozen context
    lookups each); a page with a few thousand texts spent a third of its time there
    (benchmarks/RESULTS.md). The catalogue is kept with the locale it was found for, so a
    changed locale (`flask_babel.refresh`, `force_locale`) is noticed at the next call.
    """

    def get_translations(self) -> Any:
        try:
            state = g._flask_babel
        except (AttributeError, RuntimeError):  # first call of the request; no app context
            return super().get_translations()
        locale = getattr(state, "babel_locale", None)
        cached = getattr(state, "pallapp_translations", None)
        if locale is not None and cached is not None and cached[0] is locale:
            return cached[1]
        translations = super().get_translations()
        locale = getattr(state, "babel_locale", None)
        if locale is not None:
            state.pallapp_translations = (locale, translations)
        return translations


class Babel(flask_babel.Babel):
    @cached_property
    def domain_instance(self) -> flask_babel.Domain:
        return RequestDomain(domain=self.domain)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

if TYPE_CHECKING:
    # `db.Model` is made from Base when the app starts (Flask-SQLAlchemy adds table names and
    # binds to it); mypy cannot use an attribute as a base class, so the models' base is Base
    # to it, whose columns and relationships it types.
    Model = Base
else:
    Model = db.Model


class Limiter(flask_limiter.Limiter):
    """Flask-Limiter, its before-request check skipped when no limit could apply there.

    That check applies the application, default, meta and fallback limits and those set on a
    blueprint; a decorated view checks its own limits when it runs (not in that hook). pallapp
    sets only decorated limits, so the hook found nothing to check on every request, at about a
    twentieth of a small request's time. As soon as any of the others is configured
    (`RATELIMIT_DEFAULT`, `RATELIMIT_APPLICATION`, ...) the hook checks as before.
    """

    def _check_request_limit(
        self, callable_name: str | None = None, in_middleware: bool = True
    ) -> None:
        if in_middleware and not self._limits_outside_views():
            return
        super()._check_request_limit(callable_name=callable_name, in_middleware=in_middleware)

    def _limits_outside_views(self) -> bool:
        manager = self.limit_manager
        return bool(
            manager._application_limits
            or manager._default_limits
            or manager._blueprint_limits
            or self._meta_limits
            or self._in_memory_fallback
        )


migrate = Migrate()
login_manager = LoginManager()
babel = Babel()
csrf = CSRFProtect()
# No default limits: only the routes that name a limit are throttled (login, for now).
limiter = Limiter(key_func=get_remote_address, default_limits=[])
