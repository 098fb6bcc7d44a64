"""The password policy: long enough, and not easy to guess according to zxcvbn."""

from __future__ import annotations

import pytest

from app.accounts.service import password_problems
from app.locale import language

PERSON = {"email": "camille.martin@example.org", "name": "Camille Martin"}


@pytest.mark.parametrize("password", ["une phrase de passe solide", "Horizon-directrice-2026"])
def test_a_long_phrase_is_accepted(password: str) -> None:
    assert password_problems(password, **PERSON) is None


def test_a_short_password_is_refused_with_the_minimum_length() -> None:
    assert password_problems("Zq8!vR2#", **PERSON) == "Le mot de passe doit compter au moins 12 caractères."


@pytest.mark.parametrize("password", ["motdepasse123", "azertyuiop123", "111111111111", "password1234"])
def test_a_long_but_common_password_is_refused(password: str) -> None:
    problem = password_problems(password, **PERSON)
    assert problem is not None
    assert problem.startswith("Ce mot de passe est trop facile à deviner (mot courant")


@pytest.mark.parametrize("password", ["camille.martin", "Camille Martin", "camillemartin!"])
def test_a_password_made_of_the_persons_name_or_address_says_so(password: str) -> None:
    problem = password_problems(password, **PERSON)
    assert problem is not None
    assert "il reprend votre nom ou votre adresse électronique" in problem


def test_a_password_longer_than_the_limit_is_refused() -> None:
    problem = password_problems("a" * 1025, **PERSON)
    assert problem == "Le mot de passe ne doit pas dépasser 1024 caractères."


def test_the_message_follows_the_interface_language() -> None:
    with language("en"):
        problem = password_problems("motdepasse123", **PERSON)
    assert problem is not None
    assert problem.startswith("This password is too easy to guess")
