"""The page scan of the load run's simulated users (benchmarks/pagescan.py), on hand-written
markup with the traps of real pages: scripts, comments, entities, quoted ">"."""

from __future__ import annotations

import re

from benchmarks.pagescan import PageParser

PAGE = """<!doctype html><html><head>
<script>if (a < b) { document.write('<a href="/script-link">x</a>'); }</script>
<style>a > b { color: red }</style>
</head><body>
<!-- <a href="/commented-out">old</a> -->
<form method="post" action="/logout"><input name="csrf_token" value="layout"></form>
<a class="patient-card big" href="/patients/p1?range=all&amp;x=1">Anna &amp; Bo</a>
<A HREF='/patients/p2' title="a > b">Bo</A>
<a href="">empty</a>
<img src="/patients/p1/chart.svg?v=1" alt="chart">
<dl><dt>Ordered</dt><dd>Morfin <b>10&nbsp;mg/ml</b> ·
   2,5 mg</dd></dl>
<form method="POST">
  <input type="hidden" name="csrf_token" value="t&lt;1">
  <input name="dose" value="" aria-invalid="true">
  <input type="radio" name="item_pain" value="0"><input type="radio" name="item_pain" value="1">
  <input type="checkbox" name="confirm" value="y">
  <select name="route"><option value="sc">s.c.</option><option value="po" selected>p.o.</option>
  </select>
  <textarea name="note">text</textarea>
  <input type="submit" name="send" value="Send">
</form>
<form method="post"><input name="second_form" value="x"></form>
</body></html>"""


def test_links_images_and_definitions() -> None:
    page = PageParser(PAGE)
    # The script's and the comment's links are not links; "" is no link either.
    assert page.links == [
        ("/patients/p1?range=all&x=1", "patient-card big"),
        ("/patients/p2", ""),
    ]
    assert page.images == ["/patients/p1/chart.svg?v=1"]
    # Text of nested tags included, entities decoded, white space (&nbsp; too) collapsed.
    assert page.definitions == ["Morfin 10 mg/ml · 2,5 mg"]


def test_only_the_pages_own_post_form() -> None:
    page = PageParser(PAGE)
    # Not the log-out form (it has an action), not the second post form; the submit button
    # is not sent; a select sends its selected option; a textarea is sent empty.
    assert page.fields == [("csrf_token", "t<1"), ("dose", ""), ("route", "po"), ("note", "")]
    assert page.radios == {"item_pain": ["0", "1"]}
    assert page.checkboxes == {"confirm": "y"}
    assert page.invalid == ["dose"]


def test_links_matching_by_path_and_class() -> None:
    page = PageParser(PAGE)
    pattern = re.compile(r"^/patients/[^/]+$")
    assert page.links_matching(pattern) == ["/patients/p1?range=all&x=1", "/patients/p2"]
    assert page.links_matching(pattern, "patient-card") == ["/patients/p1?range=all&x=1"]
