"""The password hash pallapp stores: Argon2id at argon2-cffi's defaults, RFC 9106's second
(low-memory) recommendation. The test accounts of tests/factories.py use a cheap hash to save
time; this test keeps the real parameters from drifting unnoticed."""

from __future__ import annotations

from argon2 import Type, extract_parameters

from pallapp.passwords import check_password, hash_password
from tests.factories import _PASSWORD_HASH, PASSWORD


def test_new_passwords_are_hashed_with_argon2id_at_the_recommended_cost():
    stored = hash_password("a long enough password")
    parameters = extract_parameters(stored)
    assert parameters.type is Type.ID
    assert (parameters.time_cost, parameters.memory_cost, parameters.parallelism) == (3, 65536, 4)
    assert check_password(stored, "a long enough password")
    assert not check_password(stored, "another long password")


def test_the_cheap_hash_of_the_test_accounts_is_checked_by_the_same_code():
    assert extract_parameters(_PASSWORD_HASH).type is Type.ID
    assert check_password(_PASSWORD_HASH, PASSWORD)
    assert not check_password(_PASSWORD_HASH, PASSWORD + "!")
