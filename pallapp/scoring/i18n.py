"""The no-op marker for translatable strings in the scoring package.

`pallapp.scoring` must not import Flask or Flask-Babel, yet its labels (items, answer options,
bands, flag explanations) are shown to users in Swedish. Labels are therefore stored as English
msgids wrapped in `N_`, which returns its argument unchanged. `pybabel extract -k N_` finds them
and puts them in the catalogue; the app translates them at render time with gettext.
"""

from __future__ import annotations

__all__ = ["N_"]


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Mark `message` as a msgid for pybabel extraction and return it unchanged.

    Always call it with a string literal: an f-string or a variable is invisible to pybabel.
    """
    return message
