"""The Flask application: settings, extensions, log-in, blueprints (errors and headers apart)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask, jsonify, redirect, request, url_for
from flask_babel import Babel, gettext
from flask_compress import Compress
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from fieldreport.accounts.totp_startup import prepare_key
from fieldreport.config import PROJECT_ROOT, Settings, load_settings
from fieldreport.periodic import PERIODIC_TASKS
from fieldreport.runtime import Runtime, build_runtime
from fieldreport.web.errors import register_error_handlers, wants_json
from fieldreport.web.languages import select_locale
from fieldreport.web.metrics import register_request_metrics
from fieldreport.web.request_checks import refuse_malformed_forms
from fieldreport.web.scripts import serve_stripped_scripts
from fieldreport.web.security import content_security_policy, security_headers
from fieldreport.web.sessions import touch_seen_session, user_from_cookie
from fieldreport.web.templating import register_template_helpers
from fieldreport.web.transaction import own_transactions

csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()
compress = Compress()


def _flask_config(settings: Settings) -> dict[str, Any]:
    return {
        "SECRET_KEY": settings.secret_key,
        "TESTING": settings.testing,
        "MAX_CONTENT_LENGTH": settings.max_request_bytes,
        "MAX_FORM_MEMORY_SIZE": 1024 * 1024,
        "MAX_FORM_PARTS": 200,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": settings.secure_cookies,
        "SESSION_COOKIE_NAME": "fieldreport_session",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": settings.secure_cookies,
        # The cookie's life; the server-side session row decides (accounts/sessions.py).
        "PERMANENT_SESSION_LIFETIME": timedelta(days=settings.session_max_days),
        # So the cookie is not sent again with every response (each script and icon): ~0.45 KB
        # a response, which the phone's 50 KB first-load budget cannot spare.
        "SESSION_REFRESH_EACH_REQUEST": False,
        # An observer may fill in the form, lose the signal and send it the next day.
        "WTF_CSRF_TIME_LIMIT": 36 * 3600,
        "WTF_CSRF_SSL_STRICT": settings.secure_cookies,
        "BABEL_DEFAULT_LOCALE": settings.languages[0],
        "BABEL_DEFAULT_TIMEZONE": settings.time_zone,
        "BABEL_TRANSLATION_DIRECTORIES": str(PROJECT_ROOT / "fieldreport" / "translations"),
        "COMPRESS_MIMETYPES": [
            "text/html",
            "text/css",
            "text/javascript",
            "application/javascript",
            "application/json",
            "application/geo+json",
            "application/manifest+json",
            "image/svg+xml",
        ],
        "COMPRESS_ALGORITHM": ["gzip"],
        "COMPRESS_MIN_SIZE": 500,
    }


def _select_timezone() -> str | None:
    if current_user.is_authenticated and current_user.time_zone:
        return current_user.time_zone
    return None


def _register_blueprints(app: Flask) -> None:
    from fieldreport.accounts.admin_views import bp as admin_bp
    from fieldreport.accounts.views import bp as accounts_bp
    from fieldreport.alerts.views import bp as alerts_bp
    from fieldreport.api.digests import bp as api_digests_bp
    from fieldreport.api.ledger import bp as api_ledger_bp
    from fieldreport.api.meta import bp as api_bp
    from fieldreport.api.reports import bp as api_reports_bp
    from fieldreport.api.review import bp as api_review_bp
    from fieldreport.api.sectors import bp as api_sectors_bp
    from fieldreport.audit.views import bp as audit_bp
    from fieldreport.digests.views import bp as digests_bp
    from fieldreport.ledger.views import bp as ledger_bp
    from fieldreport.photos.views import bp as photos_bp
    from fieldreport.places.views import bp as places_bp
    from fieldreport.reports.offline_views import bp as offline_bp
    from fieldreport.reports.views import bp as reports_bp
    from fieldreport.review.views import bp as review_bp
    from fieldreport.sectors.assignment_views import bp as assignments_bp
    from fieldreport.sectors.day_views import bp as day_bp
    from fieldreport.sectors.map_views import bp as map_bp
    from fieldreport.sectors.views import bp as sectors_bp
    from fieldreport.web.core import bp as core_bp

    blueprints = (
        core_bp,
        accounts_bp,
        admin_bp,
        reports_bp,
        photos_bp,
        sectors_bp,
        assignments_bp,
        day_bp,
        map_bp,
        places_bp,
        review_bp,
        digests_bp,
        audit_bp,
        alerts_bp,
        api_bp,
        api_reports_bp,
        api_sectors_bp,
        api_review_bp,
        api_digests_bp,
        ledger_bp,  # issue 11
        api_ledger_bp,  # issue 11
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    app.register_blueprint(offline_bp)


def build_app(settings: Settings | None = None, runtime: Runtime | None = None) -> Flask:
    settings = settings or load_settings()
    runtime = runtime or build_runtime(settings)
    app = Flask(
        "fieldreport",
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(_flask_config(settings))
    app.config["FIELDREPORT_CSP"] = content_security_policy(settings.map_tile_url)
    app.extensions["fieldreport.runtime"] = runtime
    app.extensions["fieldreport.db"] = runtime.db
    # Before any request: refuses to start when the key of the stored secrets is missing or
    # wrong (accounts/totp_startup.py says why this beats making a new one).
    with runtime.db.session_scope() as session:
        app.extensions["fieldreport.totp_key"] = prepare_key(session, settings.data_dir)

    register_request_metrics(app)  # first: its clock starts before any other hook runs
    app.before_request(refuse_malformed_forms)  # before the CSRF check, which trips on them
    csrf.init_app(app)
    _init_login(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=_select_timezone)
    compress.init_app(app)
    app.after_request(security_headers)
    app.after_request(touch_seen_session)
    register_error_handlers(app)
    _register_blueprints(app)
    own_transactions(app)
    register_template_helpers(app)
    serve_stripped_scripts(app)
    if runtime.queue.mode == "in-process" and not settings.testing:
        # Embedded default: this process keeps time for the sweep (RQ workers do it otherwise).
        runtime.queue.start_periodic(PERIODIC_TASKS)
    if settings.proxy_hops:
        # Trust exactly as many X-Forwarded-* hops as there are proxies: the throttle and the
        # audit log then see each user's address, not the proxy's (README, settings).
        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )
    return app


def _init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None
    login_manager.session_protection = "basic"

    login_manager.user_loader(user_from_cookie)

    @login_manager.unauthorized_handler
    def unauthorized() -> Any:
        if wants_json():
            return jsonify({"error": "Unauthorized", "message": gettext("Log in first.")}), 401
        return redirect(url_for("accounts.login", next=request.full_path))
