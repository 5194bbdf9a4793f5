"""TOTP codes against the test vectors of RFC 6238 (Appendix B, HMAC-SHA1), and the window and
replay rules of pallapp.auth.second_factor built on them."""

from __future__ import annotations

import base64

import pyotp
import pytest

from pallapp.auth.second_factor import STEP_SECONDS, _matching_step

#: RFC 6238 Appendix B: the SHA-1 seed is the ASCII string "12345678901234567890".
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()
#: (time in seconds, the eight-digit SHA-1 TOTP from the RFC's table)
RFC_VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]


@pytest.mark.parametrize(("moment", "code"), RFC_VECTORS)
def test_the_library_gives_the_rfc_codes(moment, code):
    assert pyotp.TOTP(RFC_SECRET, digits=8, interval=30).at(moment) == code


@pytest.mark.parametrize(("moment", "code"), RFC_VECTORS)
def test_six_digit_codes_are_the_rfcs_last_six_and_match_their_step(moment, code):
    # Dynamic truncation takes the number modulo 10^digits: six digits are the last six.
    six = code[-6:]
    assert _matching_step(RFC_SECRET, six, moment) == moment // STEP_SECONDS


def test_one_step_either_side_is_accepted_and_no_more():
    moment = 1111111111
    step = moment // STEP_SECONDS
    code = pyotp.TOTP(RFC_SECRET).at(moment)
    assert _matching_step(RFC_SECRET, code, moment + STEP_SECONDS) == step  # a late phone
    assert _matching_step(RFC_SECRET, code, moment - STEP_SECONDS) == step  # an early one
    assert _matching_step(RFC_SECRET, code, moment + 2 * STEP_SECONDS) is None
    assert _matching_step(RFC_SECRET, code, moment - 2 * STEP_SECONDS) is None


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef", "12 34 5x"])
def test_malformed_codes_match_nothing(typed):
    assert _matching_step(RFC_SECRET, typed, 59) is None


def test_spaces_typed_inside_a_code_are_ignored():
    code = pyotp.TOTP(RFC_SECRET).at(59)
    assert _matching_step(RFC_SECRET, f"{code[:3]} {code[3:]}", 59) == 59 // STEP_SECONDS
