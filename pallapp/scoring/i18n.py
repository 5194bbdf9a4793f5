"""The no-op marker for translatable strings in the scoring package.

`pallapp.scoring` must not import Flask or Flask-Babel, yet its labels (items, answer options,
bands, flag explanations) are shown to users in Swedish. Labels are therefore stored as English
msgids wrapped in `N_`, which returns its argument unchanged. `pybabel extract -k N_` finds them
and puts them in the catalogue; the app translates them at render time with gettext.

Where one English word stands for different Swedish ones (Abbey's "Mild" is "Sällan" for how
often and "Lite" for how much), the msgid is marked with a context, `NC_(context, message)`
(`pybabel extract -k NC_:1c,2`), and the definition that holds it names the same context
(`ItemDefinition.options_context`); the app translates it with pgettext.
"""

from __future__ import annotations

__all__ = ["N_", "NC_"]


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Mark `message` as a msgid for pybabel extraction and return it unchanged.

    Always call it with a string literal: an f-string or a variable is invisible to pybabel.
    """
    return message


def NC_(context: str, message: str) -> str:  # noqa: N802 - gettext marker naming, as N_
    """Mark `message` as a msgid in `context` (pgettext) for pybabel and return it unchanged.

    The context is not kept with the string: the definition holding it names the context (for
    answer options, `ItemDefinition.options_context`), and a test in Swedish checks that the two
    agree. Always call it with two string literals.
    """
    del context  # only for pybabel
    return message
