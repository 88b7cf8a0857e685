"""Two-step log-in: a code from an authenticator app (TOTP, RFC 6238) after the password, or
one of the user's recovery codes.

Who must use it is a setting (``FIELDREPORT_TWO_FACTOR_ROLES``); others may turn it on from
their account page. No session is opened before the second step passed: the web edge keeps
only "this browser passed the password of user N at T" (in the signed cookie, for minutes) and
never takes a user id from a form or a URL. Enrolment writes a secret only for that user, or for
the logged-in user who typed their password again, and never replaces a secret in use.

The secret is stored sealed (``totp_sealing``): every function that makes or reads one takes
the app's ``TotpKey``. Codes are throttled per account (``throttle.reserve_code_attempt``)
before they are checked; a code's time step is claimed with one conditional ``UPDATE``, so no
code is accepted twice (RFC 6238, 5.2). Every event is audited. See docs/architecture.md,
"Rules for evidence and safety".
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from fieldreport.accounts import passwords, recovery_codes, service, sessions, throttle
from fieldreport.accounts.errors import AccountError, LoginThrottled
from fieldreport.accounts.models import User
from fieldreport.accounts.sessions import ClientInfo
from fieldreport.accounts.totp_sealing import SecretUnreadable, TotpKey, open_stored
from fieldreport.i18n import N_

# How long a browser that passed the password may take for the code, and for enrolment (the
# user may have to install an authenticator app first).
CODE_STEP_LIFETIME = timedelta(minutes=5)
ENROL_STEP_LIFETIME = timedelta(minutes=10)
# A phone's clock may be one 30-second step off either way.
CLOCK_DRIFT_STEPS = 1

NEXT_SESSION = "session"
NEXT_CODE = "code"
NEXT_ENROL = "enrol"


class TwoFactorError(AccountError):
    """A two-step log-in request that cannot be done (expired, not enrolled, …)."""


class WrongCode(TwoFactorError):
    """The code is none of the authenticator's current codes nor an unused recovery code."""


class CodeThrottled(TwoFactorError):
    """Too many wrong codes for this account lately."""


def is_on(user: User) -> bool:
    return user.totp_enabled_at is not None and user.totp_secret is not None


def enrolment_pending(user: User) -> bool:
    """A secret was made and is not confirmed yet (and never one in use)."""
    return user.totp_secret is not None and user.totp_enabled_at is None


def required_for(user: User, roles: tuple[str, ...]) -> bool:
    return user.role in roles


def step_is_fresh(started_at: datetime, next_step: str, now: datetime) -> bool:
    """Whether a browser's pending step (password passed at ``started_at``) is still valid."""
    lifetime = ENROL_STEP_LIFETIME if next_step == NEXT_ENROL else CODE_STEP_LIFETIME
    return started_at <= now < started_at + lifetime


@dataclass(frozen=True)
class PasswordStep:
    user: User
    next_step: str  # NEXT_SESSION (logged in now), NEXT_CODE or NEXT_ENROL


def log_in_password_step(
    session: Session,
    username: str,
    password: str,
    client: ClientInfo,
    required_roles: tuple[str, ...],
    now: datetime,
    key: TotpKey,
) -> PasswordStep | None:
    """The password step of a log-in; None for wrong credentials (raises ``LoginThrottled``).

    A user without two-step log-in who may go without gets a session at once; one who has it
    is asked for a code; one whose role requires it and who has none is enrolled first (a new
    secret, replaced at every try, so a half-done enrolment leaves nothing usable).
    """
    user = service.check_password(session, username, password, client, now)
    if user is None:
        return None
    if is_on(user):
        return PasswordStep(user, NEXT_CODE)
    if required_for(user, required_roles):
        _new_secret(session, user, client, key)
        return PasswordStep(user, NEXT_ENROL)
    service.start_login(session, user, client, now)
    return PasswordStep(user, NEXT_SESSION)


def begin_own_enrolment(
    session: Session, user: User, password: str, client: ClientInfo, now: datetime, key: TotpKey
) -> None:
    """A logged-in user turns two-step log-in on: their password again first (a borrowed,
    unlocked phone is not enough), counted like a log-in attempt."""
    if is_on(user):
        raise TwoFactorError(N_("Two-step log-in is on already."), "password")
    if not throttle.reserve_attempt(session, user.username, client.address, now):
        raise LoginThrottled(N_("Too many failed attempts. Wait 15 minutes, then try again."))
    if not passwords.verify(user.password_hash, password):
        throttle.attempt_failed(session, client.address, now)
        service.audit(session, "two_factor.password_failed", user=user, address=client.address)
        raise AccountError(N_("The password is not right."), "password")
    throttle.attempt_succeeded(session, user.username, client.address)
    _new_secret(session, user, client, key)


def _new_secret(session: Session, user: User, client: ClientInfo, key: TotpKey) -> None:
    if is_on(user):  # never replace a secret in use: that would turn the second factor off
        raise TwoFactorError(N_("Two-step log-in is on already."))
    user.totp_secret = key.seal(user.id, pyotp.random_base32())
    user.totp_last_step = None
    service.audit(session, "two_factor.enrolment_started", user=user, address=client.address)


def provisioning_uri(user: User, issuer: str, key: TotpKey) -> str:
    """The ``otpauth://`` address the QR code carries (account name: the username)."""
    secret = _pending_secret(user, key)
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=issuer)


def secret_in_groups(user: User, key: TotpKey) -> str:
    """The secret as typed by hand: groups of four letters."""
    secret = _pending_secret(user, key)
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _pending_secret(user: User, key: TotpKey) -> str:
    """The secret of an enrolment in progress (raises for none, or one that does not open)."""
    if not enrolment_pending(user):
        raise TwoFactorError(N_("Start again: log in to set up two-step log-in."))
    assert user.totp_secret is not None
    return open_stored(key, user.id, user.totp_secret)[0]


def confirm_enrolment(
    session: Session,
    user: User,
    code: str,
    client: ClientInfo,
    now: datetime,
    key: TotpKey,
    *,
    start_session: bool,
) -> list[str]:
    """Turn two-step log-in on once the user typed a current code of the new secret; returns
    the ten recovery codes (shown once). ``start_session``: this was the log-in's last step.

    A wrong code raises after counting and auditing it: the edge keeps those rows.
    """
    if not enrolment_pending(user):
        raise TwoFactorError(N_("Start again: log in to set up two-step log-in."))
    _check_code(session, user, code, client, now, key, recovery_allowed=False)
    user.totp_enabled_at = now
    codes = recovery_codes.replace_codes(session, user, now)
    service.audit(session, "two_factor.enrolled", user=user, address=client.address)
    if start_session:
        service.start_login(session, user, client, now, second_factor="totp")
    return codes


def log_in_code_step(
    session: Session, user: User, code: str, client: ClientInfo, now: datetime, key: TotpKey
) -> None:
    """The second step of a log-in: a current code or an unused recovery code opens the
    session; a wrong one raises (counted and audited), and so does a code of a user whose
    stored secret does not open (``SecretUnreadable``: a recovery code still works)."""
    if not is_on(user):
        raise TwoFactorError(N_("Start again: log in."))
    kind = _check_code(session, user, code, client, now, key, recovery_allowed=True)
    service.start_login(session, user, client, now, second_factor=kind)


def _check_code(
    session: Session,
    user: User,
    code: str,
    client: ClientInfo,
    now: datetime,
    key: TotpKey,
    *,
    recovery_allowed: bool,
) -> str:
    """ "totp" or "recovery" for a code that passes; raises otherwise. Throttled first."""
    if not throttle.reserve_code_attempt(session, user.id, now):
        service.audit(session, "two_factor.throttled", user=user, address=client.address)
        raise CodeThrottled(N_("Too many wrong codes. Wait 15 minutes, then try again."), "code")
    if recovery_allowed and recovery_codes.looks_like_one(code):
        if recovery_codes.use_code(session, user, code, now):
            left = recovery_codes.remaining(session, user)
            service.audit(
                session,
                "two_factor.recovery_used",
                user=user,
                address=client.address,
                detail={"recovery_codes_left": left},
            )
            throttle.code_attempt_succeeded(session, user.id)
            return "recovery"
    elif _accept_totp(session, user, code, now, _secret_or_refuse(session, user, client, key)):
        service.audit(session, "two_factor.verified", user=user, address=client.address)
        throttle.code_attempt_succeeded(session, user.id)
        return "totp"
    service.audit(session, "two_factor.failed", user=user, address=client.address)
    raise WrongCode(N_("That code is not right. Type the newest code from your app."), "code")


def _secret_or_refuse(session: Session, user: User, client: ClientInfo, key: TotpKey) -> str:
    """The user's secret; one still in clear (stored before sealing) is sealed now. A value
    that does not open (copied from another user's row, altered) is audited and refused."""
    assert user.totp_secret is not None
    try:
        secret, in_clear = open_stored(key, user.id, user.totp_secret)
    except SecretUnreadable:
        service.audit(session, "two_factor.secret_unreadable", user=user, address=client.address)
        raise
    if in_clear:
        user.totp_secret = key.seal(user.id, secret)
    return secret


def _accept_totp(session: Session, user: User, code: str, now: datetime, secret: str) -> bool:
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return False
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - CLOCK_DRIFT_STEPS, current + CLOCK_DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return _claim_step(session, user, step)
    return False


def _claim_step(session: Session, user: User, step: int) -> bool:
    """Mark ``step`` used, unless it (or a later one) was: a code works once, even raced."""
    result = session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    session.expire(user, ["totp_last_step"])
    return result.rowcount == 1  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Status:
    on: bool
    since: datetime | None
    recovery_codes_left: int


def status(session: Session, user: User) -> Status:
    left = recovery_codes.remaining(session, user) if is_on(user) else 0
    return Status(is_on(user), user.totp_enabled_at, left)


def reset(session: Session, actor: User, user: User, now: datetime) -> int:
    """An admin turns a user's two-step log-in off (a lost phone and lost codes): the secret
    and codes are forgotten and every session of the user ends. Returns how many ended. If
    the role requires it, the user enrols again at the next log-in."""
    return _forget(session, user, now, by=actor.username)


def reset_everyone(session: Session, now: datetime, by: str) -> int:
    """Every user's two-step log-in off, from the command line: the way out when the sealing
    key is lost for good (``fieldreport reset-two-factor --all``). Returns how many users."""
    users = session.scalars(
        select(User).where(or_(User.totp_secret.is_not(None), User.totp_enabled_at.is_not(None)))
    ).all()
    for user in users:
        _forget(session, user, now, by=by)
    return len(users)


def _forget(session: Session, user: User, now: datetime, *, by: str) -> int:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    recovery_codes.forget_codes(session, user)
    ended = sessions.revoke_all(session, user, now)
    service.audit(
        session, "two_factor.reset", user=user, detail={"by": by, "sessions_ended": ended}
    )
    return ended
