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
