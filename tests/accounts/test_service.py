"""Accounts through the service, on SQLite and on PostgreSQL: creation, hashing, sign-in, throttling."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlmodel import Session, col, select

from app.accounts import service
from app.accounts.models import LoginAttempt, Role, User
from app.accounts.service import LoginError, authenticate, create_user
from app.db import AuditEntry, utcnow
from app.errors import ServiceError

PASSWORD = "une phrase de passe solide"
CLIENT = "192.0.2.10"


def make_user(
    session: Session,
    *,
    email: str = "camille@example.org",
    role: Role = Role.DIRECTOR,
    password: str = PASSWORD,
) -> User:
    return create_user(session, email=email, name="Camille Martin", role=role, password=password)


def fail_sign_in(session: Session, *, email: str, times: int, client: str = CLIENT) -> None:
    for _ in range(times):
        with pytest.raises(LoginError):
            authenticate(session, email=email, password="mauvais mot de passe", client=client)


def audit_actions(session: Session) -> list[str]:
    return list(session.exec(select(AuditEntry.action).order_by(col(AuditEntry.id))).all())


def test_create_user_stores_an_argon2_hash_and_a_lower_case_email(session: Session) -> None:
    user = make_user(session, email="  Camille@Example.ORG ")
    assert user.email == "camille@example.org"
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert service.verify_password(user.password_hash, PASSWORD)
    assert not service.verify_password(user.password_hash, PASSWORD.upper())


def test_create_user_is_recorded_in_the_audit_log_without_the_password(session: Session) -> None:
    user = make_user(session)
    entry = session.exec(select(AuditEntry)).one()
    assert (entry.action, entry.object_type, entry.object_id) == ("user.create", "user", str(user.id))
    assert entry.after == {
        "email": user.email,
        "name": "Camille Martin",
        "role": "director",
        "is_active": True,
    }


def test_create_user_refuses_an_email_already_used_whatever_its_case(session: Session) -> None:
    make_user(session)
    with pytest.raises(ServiceError, match="déjà utilisée") as refused:
        make_user(session, email="CAMILLE@example.org")
    assert refused.value.field == "email"
    assert len(session.exec(select(User)).all()) == 1


@pytest.mark.parametrize(
    ("email", "password", "field", "message"),
    [
        ("camille@example.org", "a" * 11, "password", "au moins 12 caractères"),
        ("camille", PASSWORD, "email", "n'est pas valide"),
        ("camille@example", PASSWORD, "email", "n'est pas valide"),
        ("ca mille@example.org", PASSWORD, "email", "n'est pas valide"),
    ],
)
def test_create_user_refuses_bad_input_and_writes_nothing(
    session: Session, email: str, password: str, field: str, message: str
) -> None:
    with pytest.raises(ServiceError, match=message) as refused:
        make_user(session, email=email, password=password)
    assert refused.value.field == field
    assert session.exec(select(User)).all() == []
    assert audit_actions(session) == []


def test_authenticate_accepts_the_right_password_whatever_the_email_case(session: Session) -> None:
    user = make_user(session)
    assert authenticate(session, email=" CAMILLE@example.org", password=PASSWORD, client=CLIENT) == user
    assert audit_actions(session) == ["user.create", "user.sign_in"]


def test_wrong_password_and_unknown_email_get_the_same_message(session: Session) -> None:
    make_user(session)
    with pytest.raises(LoginError) as wrong_password:
        authenticate(session, email="camille@example.org", password="pas le bon", client=CLIENT)
    with pytest.raises(LoginError) as unknown_email:
        authenticate(session, email="personne@example.org", password=PASSWORD, client=CLIENT)
    assert wrong_password.value.message == unknown_email.value.message == service.WRONG_CREDENTIALS
    assert wrong_password.value.retry_after is None
    assert audit_actions(session) == ["user.create", "user.sign_in_failed", "user.sign_in_failed"]


def test_an_unknown_email_still_costs_an_argon2_verification(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    verified: list[str] = []
    real_verify = service.verify_password

    def spy(password_hash: str, password: str) -> bool:
        verified.append(password_hash)
        return real_verify(password_hash, password)

    monkeypatch.setattr(service, "verify_password", spy)
    with pytest.raises(LoginError):
        authenticate(session, email="personne@example.org", password=PASSWORD, client=CLIENT)
    assert len(verified) == 1
    assert verified[0].startswith("$argon2id$")


def test_a_deactivated_account_is_refused_with_its_own_message(session: Session) -> None:
    user = make_user(session)
    user.is_active = False
    session.add(user)
    session.commit()
    with pytest.raises(LoginError, match="désactivé"):
        authenticate(session, email=user.email, password=PASSWORD, client=CLIENT)
    with pytest.raises(LoginError, match="incorrect"):  # the state shows only with the right password
        authenticate(session, email=user.email, password="pas le bon", client=CLIENT)


@pytest.mark.parametrize(
    ("email", "password", "field"), [("", PASSWORD, "email"), ("a@b.fr", "", "password")]
)
def test_empty_fields_are_named_and_not_counted_as_attempts(
    session: Session, email: str, password: str, field: str
) -> None:
    with pytest.raises(LoginError) as refused:
        authenticate(session, email=email, password=password, client=CLIENT)
    assert refused.value.field == field
    assert session.exec(select(LoginAttempt)).all() == []


def test_past_five_failures_that_client_waits_for_that_account_but_nobody_else_does(
    session: Session,
) -> None:
    user = make_user(session)
    fail_sign_in(session, email=user.email, times=5)
    with pytest.raises(LoginError) as throttled:
        authenticate(session, email=user.email, password=PASSWORD, client=CLIENT)
    assert throttled.value.retry_after is not None
    assert 0 < throttled.value.retry_after <= 30
    assert "depuis cet appareil. Réessayez dans" in throttled.value.message
    assert "secondes" in throttled.value.message
    # The person, from elsewhere, is not locked out by a stranger's guesses.
    assert authenticate(session, email=user.email, password=PASSWORD, client="198.51.100.7") == user
    # Nor are other addresses signing in from the same client.
    other = make_user(session, email="dominique@example.org")
    assert authenticate(session, email=other.email, password=PASSWORD, client=CLIENT) == other


def test_twenty_failures_from_one_client_block_that_client_for_every_email(session: Session) -> None:
    user = make_user(session)
    for number in range(20):
        fail_sign_in(session, email=f"inconnu{number}@example.org", times=1)
    with pytest.raises(LoginError) as throttled:
        authenticate(session, email=user.email, password=PASSWORD, client=CLIENT)
    assert throttled.value.retry_after is not None
    assert authenticate(session, email=user.email, password=PASSWORD, client="198.51.100.7") == user


def test_failures_older_than_fifteen_minutes_no_longer_count(session: Session) -> None:
    user = make_user(session)
    long_ago = utcnow() - timedelta(minutes=15, seconds=5)
    for _ in range(5):
        session.add(LoginAttempt(email=user.email, client=CLIENT, at=long_ago))
    session.commit()
    assert authenticate(session, email=user.email, password=PASSWORD, client=CLIENT) == user


def test_the_wait_doubles_with_each_failure_and_runs_from_the_last(session: Session) -> None:
    user = make_user(session)
    a_minute_ago = utcnow() - timedelta(minutes=1)
    for _ in range(5):  # the first delay, 30 s after the fifth, has passed: a delay, not a lock
        session.add(LoginAttempt(email=user.email, client=CLIENT, at=a_minute_ago))
    session.commit()
    assert authenticate(session, email=user.email, password=PASSWORD, client=CLIENT) == user
    for _ in range(8):  # eight failures: 30 s doubled three times, 4 minutes after the last
        session.add(LoginAttempt(email=user.email, client=CLIENT, at=a_minute_ago))
    session.commit()
    with pytest.raises(LoginError, match="Réessayez dans 3 minutes") as throttled:
        authenticate(session, email=user.email, password=PASSWORD, client=CLIENT)
    assert throttled.value.retry_after is not None
    assert 2 * 60 < throttled.value.retry_after <= 3 * 60


def test_a_success_clears_that_emails_failed_attempts(session: Session) -> None:
    user = make_user(session)
    fail_sign_in(session, email=user.email, times=4)
    authenticate(session, email=user.email, password=PASSWORD, client=CLIENT)
    assert session.exec(select(LoginAttempt).where(LoginAttempt.email == user.email)).all() == []
    fail_sign_in(session, email=user.email, times=4)
    assert authenticate(session, email=user.email, password=PASSWORD, client=CLIENT) == user


@pytest.mark.usefixtures("production_password_hashes")
def test_a_hash_made_with_older_parameters_is_replaced_at_sign_in(session: Session) -> None:
    user = make_user(session)
    user.password_hash = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    session.add(user)
    session.commit()
    authenticate(session, email=user.email, password=PASSWORD, client=CLIENT)
    session.refresh(user)
    assert not PasswordHasher().check_needs_rehash(user.password_hash)
    assert service.verify_password(user.password_hash, PASSWORD)
    sign_in = session.exec(select(AuditEntry).where(AuditEntry.action == "user.sign_in")).one()
    assert sign_in.after == {"cleared_attempts": 0, "rehashed": True}


def test_verify_password_is_false_for_a_malformed_hash() -> None:
    assert not service.verify_password("not-a-real-hash", PASSWORD)
