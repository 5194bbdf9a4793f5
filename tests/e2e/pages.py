"""Page objects: what a person sees and does, so tests read like the flow they check."""

from __future__ import annotations

from dataclasses import dataclass

from playwright.sync_api import Page, expect


@dataclass
class LoginPage:
    page: Page
    base_url: str

    def open(self) -> LoginPage:
        self.page.goto(f"{self.base_url}/login")
        return self

    def log_in(self, email: str, password: str) -> TodayPage:
        self.page.get_by_label("E-post").fill(email)
        self.page.get_by_label("Lösenord").fill(password)
        self.page.get_by_role("button", name="Logga in").click()
        return TodayPage(self.page, self.base_url)


@dataclass
class TodayPage:
    page: Page
    base_url: str

    def expect_loaded(self) -> TodayPage:
        expect(self.page.get_by_role("heading", level=1)).to_have_text("Idag")
        return self

    def search(self, text: str) -> TodayPage:
        self.page.get_by_label("Sök på namn eller personnummer").fill(text)
        self.page.get_by_role("button", name="Sök").click()
        return self

    def open_patient(self, name_part: str) -> PatientPage:
        self.page.locator(".patient-card", has_text=name_part).first.click()
        return PatientPage(self.page, self.base_url)


@dataclass
class PatientPage:
    page: Page
    base_url: str

    def heading(self) -> str:
        return self.page.get_by_role("heading", level=1).inner_text()

    def start_assessment(self, instrument_title: str) -> AssessmentFormPage:
        self.page.get_by_role("link", name="Ny skattning").click()
        self.page.get_by_role("link", name=instrument_title, exact=True).click()
        return AssessmentFormPage(self.page, self.base_url).wait_until_ready()


@dataclass
class StartPage:
    """A patient's or relative's start page."""

    page: Page
    base_url: str

    def start_self_report(self, instrument_title: str) -> AssessmentFormPage:
        self.page.get_by_role("link", name="Hur mår du i dag? Skatta dina symtom").click()
        self.page.get_by_role("link", name=instrument_title, exact=True).click()
        return AssessmentFormPage(self.page, self.base_url).wait_until_ready()


@dataclass
class AssessmentFormPage:
    """An instrument form. Answers are keyed by field name (`item_<code>`, `ctx_<code>`), the
    stable contract of `pallapp.forms.instruments`, and given by tapping the option's button."""

    page: Page
    base_url: str

    def wait_until_ready(self) -> AssessmentFormPage:
        """Wait for the form and its script: deferred scripts have run once `load` fires, so
        from here on only the current step is shown (one at a time, as a person sees it)."""
        expect(self.page.locator("form[data-assessment]")).to_be_attached()
        self.page.wait_for_load_state("load")
        return self

    def step_headings(self) -> list[str]:
        return self.page.locator("section.step .step-heading").all_inner_texts()

    def answer(self, answers: dict[str, int | str]) -> AssessmentFormPage:
        """Answer step by step as a person does: the questions of the step shown, then Nästa."""
        steps = self.page.locator("section.step")
        remaining = dict(answers)
        for index in range(steps.count()):
            step = steps.nth(index)
            expect(step).to_be_visible()
            for name, value in list(remaining.items()):
                group = step.locator(f"#{name}-group")
                if group.count():
                    group.locator(f"label:has(input[value='{value}'])").click()
                    expect(group.locator(f"input[value='{value}']")).to_be_checked()
                    del remaining[name]
            next_button = step.get_by_role("button", name="Nästa")
            if next_button.count():
                next_button.click()
        assert remaining == {}, f"not found on any step: {sorted(remaining)}"
        return self

    def submit(self, label: str) -> ResultPage:
        self.page.get_by_role("button", name=label, exact=True).click()
        return ResultPage(self.page, self.base_url)


@dataclass
class ResultPage:
    page: Page
    base_url: str

    def score(self, label: str) -> str:
        """The text shown for a score or the overall result, by its label ("28 av 90")."""
        term = self.page.locator("dl.facts dt", has_text=label).first
        return term.locator("xpath=following-sibling::dd[1]").inner_text()

    def flag_titles(self) -> list[str]:
        return self.page.locator(".flag strong").all_inner_texts()

    def answer_band(self, question: str) -> str:
        row = self.page.locator("tbody tr", has=self.page.get_by_role("cell", name=question, exact=True))
        return row.locator(".band").inner_text()
