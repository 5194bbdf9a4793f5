"""Page objects: what a person sees and does, so tests read like the flow they check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from playwright.sync_api import Locator, Page, expect

from pallapp.timeutil import STOCKHOLM


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
class ProviderLoginPage:
    """The test identity provider's own login page (tests/oidc/server.mjs)."""

    page: Page

    def confirm_logout(self) -> None:
        """The provider's own end-session page (RP-initiated logout), then back at ours."""
        self.page.get_by_role("button", name="Yes, sign me out").click()
        expect(self.page.get_by_role("heading", level=1)).to_have_text("Logga in i pallapp")

    def sign_in_as(self, login: str) -> None:
        expect(self.page.get_by_role("heading", level=1)).to_contain_text("Test identity provider")
        self.page.locator("input[name=login]").fill(login)
        self.page.get_by_role("button", name="Sign in").click()


@dataclass
class SecondFactorSetupPage:
    page: Page

    def expect_loaded(self) -> SecondFactorSetupPage:
        expect(self.page.get_by_role("heading", level=1)).to_have_text("Andra faktor")
        expect(self.page.locator(".qr svg")).to_be_visible()
        return self

    def secret(self) -> str:
        return str(self.page.locator("code.secret").get_attribute("data-secret"))

    def confirm(self, code: str) -> list[str]:
        """Enter the app's code; returns the recovery codes shown once."""
        self.page.get_by_label("Kod från appen").fill(code)
        self.page.get_by_role("button", name="Slå på den andra faktorn").click()
        expect(self.page.get_by_role("heading", level=1)).to_have_text("Reservkoder")
        return [text.strip() for text in self.page.locator(".recovery-codes code").all_inner_texts()]


@dataclass
class SecondFactorPage:
    page: Page

    def enter(self, code: str) -> None:
        expect(self.page.get_by_role("heading", level=1)).to_have_text("Andra faktor")
        self.page.get_by_label("Kod", exact=True).fill(code)
        self.page.get_by_role("button", name="Fortsätt").click()

    def error(self) -> str:
        return self.page.locator(".error").inner_text()


@dataclass
class SiteMenu:
    """The header menu: behind the "Meny" button on a phone (static/menu.js), open on a tablet."""

    page: Page

    def button(self) -> Locator:
        return self.page.get_by_role("button", name="Meny")

    def header(self) -> Locator:
        return self.page.locator("header.site-header")

    def link(self, name: str) -> Locator:
        return self.page.get_by_role("navigation", name="Huvudmeny").get_by_role(
            "link", name=name, exact=True
        )

    def is_folded(self) -> bool:
        return self.button().is_visible() and self.button().get_attribute("aria-expanded") == "false"

    def open(self) -> SiteMenu:
        """Open the menu when it is folded (a phone); nothing to do when it is shown."""
        if self.is_folded():
            self.button().click()
            expect(self.button()).to_have_attribute("aria-expanded", "true")
        return self


def log_out(page: Page) -> None:
    SiteMenu(page).open()
    page.get_by_role("button", name="Logga ut").click()


@dataclass
class TodayPage:
    page: Page
    base_url: str

    def expect_loaded(self) -> TodayPage:
        expect(self.page.get_by_role("heading", level=1)).to_have_text("I dag")
        return self

    def search(self, text: str) -> TodayPage:
        self.page.get_by_label("Sök på namn eller personnummer").fill(text)
        self.page.get_by_role("button", name="Sök").click()
        return self

    def open_patient(self, name_part: str) -> PatientPage:
        self.page.locator(".patient-card", has_text=name_part).first.click()
        return PatientPage(self.page, self.base_url)

    def open_home_visit(self, patient_name: str, name_part: str) -> HomeVisitPage:
        self.page.locator(".patient-card", has_text=name_part).first.click()
        return HomeVisitPage(self.page, self.base_url).expect_loaded(patient_name)


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


def press(target: Locator, *, touch: bool) -> None:
    """One tap on `target`: a touch tap, or a click (both are one pointer press)."""
    if touch:
        target.tap()
    else:
        target.click()


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

    def answer(self, answers: dict[str, int | str], *, touch: bool = False) -> AssessmentFormPage:
        """Answer step by step as a person does: the questions of the step shown, each with
        one tap (`touch`: a touch tap, else a click); the form moves on by itself once the
        step's expected answers are given, and Nästa is tapped only where it did not."""
        steps = self.page.locator("section.step")
        last = steps.count() - 1
        advancing = self.page.locator("form[data-assessment][data-advancing]")
        remaining = dict(answers)
        index = max(self.current_step(), 0)  # a stepped form may be past its first step
        while True:
            step = steps.nth(index)
            expect(step).to_be_visible()
            for name, value in list(remaining.items()):
                group = step.locator(f"#{name}-group")
                if group.count():
                    press(group.locator(f"label:has(input[value='{value}'])"), touch=touch)
                    expect(group.locator(f"input[value='{value}']")).to_be_checked()
                    del remaining[name]
            expect(advancing).to_have_count(0)  # the move after the last tap has happened
            if index == last:
                break
            if step.is_visible():
                press(step.get_by_role("button", name="Nästa"), touch=touch)
            index = self.current_step()
        assert remaining == {}, f"not found on any step: {sorted(remaining)}"
        return self

    def current_step(self) -> int:
        """The index of the step shown on a stepped form; -1 when every step is shown."""
        return int(self.page.evaluate(
            "Array.prototype.indexOf.call(document.querySelectorAll('section.step'),"
            " document.querySelector('section.step.is-current'))"
        ))

    def to_last_step(self) -> AssessmentFormPage:
        """Tap Nästa through the steps (answers already in place, e.g. a restored draft)."""
        while True:
            next_button = self.page.locator("section.step.is-current").get_by_role(
                "button", name="Nästa"
            )
            if not next_button.count():
                return self
            next_button.click()

    def submit(self, label: str, *, touch: bool = False) -> ResultPage:
        """Send and wait for the next page: offline.js sends with fetch and then navigates, so
        the navigation starts after the click has returned."""
        button = self.page.get_by_role("button", name=label, exact=True)
        with self.page.expect_navigation():
            press(button, touch=touch)
        self.page.wait_for_load_state("load")
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


def _arrive(page: Page, heading: str) -> None:
    """After a click that navigates: the new page's heading is shown and its `load` has fired."""
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    page.wait_for_load_state("load")


@dataclass
class HomeVisitPage:
    """The patient page as the home-visit hub: care plan, as-needed orders, doses to evaluate."""

    page: Page
    base_url: str

    def expect_loaded(self, patient_name: str) -> HomeVisitPage:
        _arrive(self.page, patient_name)
        return self

    def open_care_plan(self) -> CarePlanPage:
        self.page.get_by_role("link", name="Öppna vårdplanen").click()
        _arrive(self.page, "Vårdplan")
        return CarePlanPage(self.page, self.base_url)

    def open_orders(self) -> OrdersPage:
        self.page.get_by_role("link", name="Alla ordinationer").click()
        _arrive(self.page, "Vid behovsordinationer")
        return OrdersPage(self.page, self.base_url)

    def orders_section(self) -> Locator:
        return self.page.locator("section[aria-labelledby='orders-heading']")

    def order_titles(self) -> list[str]:
        return self.orders_section().get_by_role("heading", level=3).all_inner_texts()

    def order(self, indication: str) -> Locator:
        """The card of the order in force for an indication ("Smärta")."""
        return self.orders_section().locator(
            "li.card", has=self.page.get_by_role("heading", level=3, name=indication, exact=True)
        )

    def record_dose(self, indication: str) -> DoseFormPage:
        self.order(indication).get_by_role("link", name="Registrera given dos").click()
        _arrive(self.page, "Registrera given dos")
        return DoseFormPage(self.page, self.base_url)

    def care_plan_fact(self, label: str) -> str:
        term = self.page.locator("section[aria-labelledby='plan-heading'] dt", has_text=label)
        return term.locator("xpath=following-sibling::dd[1]").inner_text()

    def flags(self) -> Locator:
        return self.page.locator("section[aria-labelledby='flags-heading'] .flag summary")

    def evaluate_links(self) -> Locator:
        return self.page.locator("section[aria-labelledby='evaluate-heading']").get_by_role("link")

    def evaluate(self, href: str) -> EvaluatePage:
        self.page.locator(f"section[aria-labelledby='evaluate-heading'] a[href='{href}']").click()
        _arrive(self.page, "Effekt av dosen")
        return EvaluatePage(self.page, self.base_url)


@dataclass
class CarePlanPage:
    page: Page
    base_url: str

    def write(self) -> CarePlanFormPage:
        self.page.get_by_role("link", name="Skriv vårdplanen").click()
        _arrive(self.page, "Ändra vårdplanen")
        return CarePlanFormPage(self.page, self.base_url)

    def fact(self, label: str) -> str:
        term = self.page.locator("dl.facts dt", has_text=label).first
        return term.locator("xpath=following-sibling::dd[1]").inner_text()

    def back_to_patient(self, patient_name: str) -> HomeVisitPage:
        self.page.get_by_role("link", name="Tillbaka till patienten").click()
        return HomeVisitPage(self.page, self.base_url).expect_loaded(patient_name)


@dataclass
class CarePlanFormPage:
    page: Page
    base_url: str

    def fill(self, values: dict[str, str]) -> CarePlanFormPage:
        """Values by the field's Swedish label ("Mål och önskemål")."""
        for label, text in values.items():
            self.page.get_by_label(label, exact=True).fill(text)
        return self

    def save(self) -> CarePlanPage:
        self.page.get_by_role("button", name="Spara som ny version").click()
        _arrive(self.page, "Vårdplan")
        return CarePlanPage(self.page, self.base_url)


@dataclass
class OrdersPage:
    page: Page
    base_url: str

    def quick_add(self, indication: str) -> OrderFormPage:
        """One of the quick-add buttons of the standard indications ("Smärta")."""
        self.page.get_by_role("link", name=indication, exact=True).click()
        _arrive(self.page, "Ny vid behovsordination")
        return OrderFormPage(self.page, self.base_url)

    def back_to_patient(self, patient_name: str) -> HomeVisitPage:
        self.page.get_by_role("link", name="Tillbaka till patienten").click()
        return HomeVisitPage(self.page, self.base_url).expect_loaded(patient_name)


@dataclass
class OrderFormPage:
    page: Page
    base_url: str

    # The fields a physician writes; quick-add leaves every one of them empty.
    DRUG = "Läkemedel"
    STRENGTH = "Styrka"
    DOSE = "Dos"
    UNIT = "Enhet"
    INTERVAL = "Minsta tid mellan doser (timmar)"
    MAX_24H = "Högsta antal doser per dygn"

    def value(self, label: str) -> str:
        return self.page.get_by_label(label, exact=True).input_value()

    def indication_checked(self, indication: str) -> bool:
        return self.page.get_by_role("radio", name=indication, exact=True).is_checked()

    def fill(
        self,
        *,
        drug: str,
        strength: str,
        dose: str,
        unit: str,
        route: str,
        interval_hours: str,
        max_per_24h: str,
    ) -> OrderFormPage:
        self.page.get_by_label(self.DRUG, exact=True).fill(drug)
        self.page.get_by_label(self.STRENGTH, exact=True).fill(strength)
        self.page.get_by_label(self.DOSE, exact=True).fill(dose)
        self.page.get_by_label(self.UNIT, exact=True).fill(unit)
        self.page.get_by_label("Administrationssätt", exact=True).select_option(label=route)
        self.page.get_by_label(self.INTERVAL, exact=True).fill(interval_hours)
        self.page.get_by_label(self.MAX_24H, exact=True).fill(max_per_24h)
        return self

    def save(self) -> OrdersPage:
        self.page.get_by_role("button", name="Spara ordinationen").click()
        _arrive(self.page, "Vid behovsordinationer")
        return OrdersPage(self.page, self.base_url)


@dataclass
class DoseFormPage:
    page: Page
    base_url: str

    def give(self, dose: str) -> DoseFormPage:
        """The dose given; the time, unit and route start from now and the order's own."""
        self.page.get_by_label("Given dos", exact=True).fill(dose)
        return self

    def warning(self) -> Locator:
        return self.page.get_by_role("alert").filter(
            has=self.page.get_by_role(
                "heading", name="Varning: den här dosen är utanför ordinationens gränser"
            )
        )

    def confirm(self, reason: str | None) -> DoseFormPage:
        """Tick that the dose was given anyway, and write why (None: leave the reason empty)."""
        self.page.get_by_label("Jag har läst varningen och dosen gavs ändå").check()
        if reason is not None:
            self.page.get_by_label("Varför gavs dosen utanför ordinationens gränser?").fill(reason)
        return self

    def save_expecting_warning(self) -> DoseFormPage:
        """Send the form and wait for the same form to come back (the heading stays the same,
        so wait for the navigation itself, then for `load`)."""
        with self.page.expect_navigation():
            self.page.get_by_role("button", name="Spara dosen").click()
        _arrive(self.page, "Registrera given dos")
        return self

    def save(self, patient_name: str) -> HomeVisitPage:
        self.page.get_by_role("button", name="Spara dosen").click()
        return HomeVisitPage(self.page, self.base_url).expect_loaded(patient_name)

    # --- by touch, and what the form says about the dose against the order ------------------

    def given_at(self, when: datetime) -> DoseFormPage:
        """When the dose was given, written in Swedish time as the field takes it."""
        field = self.page.get_by_label("När gavs den?", exact=True)
        field.tap()
        field.fill(when.astimezone(STOCKHOLM).strftime("%Y-%m-%dT%H:%M"))
        return self

    def ordered_hint(self) -> Locator:
        """The ordered dose, shown beside the amount field."""
        return self.page.locator("#dose-hint")

    def amount_error(self) -> Locator:
        return self.page.locator("#dose-error")

    def colliding_doses(self) -> list[str]:
        """The doses the warning says this one collides with, as written on the page."""
        return self.warning().locator("ul.colliding li").all_inner_texts()

    def mismatch_warning(self) -> Locator:
        return self.page.get_by_role("alert").filter(
            has=self.page.get_by_role("heading", name="Varning: dosen avviker från ordinationen")
        )

    def tap_save_expecting_warning(self) -> DoseFormPage:
        """Tap Spara dosen and wait for the same form to come back with its warning."""
        with self.page.expect_navigation():
            self.page.get_by_role("button", name="Spara dosen").tap()
        _arrive(self.page, "Registrera given dos")
        return self

    def tap_save(self, patient_name: str) -> HomeVisitPage:
        self.page.get_by_role("button", name="Spara dosen").tap()
        return HomeVisitPage(self.page, self.base_url).expect_loaded(patient_name)

    def tap_confirm(self, reason: str) -> DoseFormPage:
        """Tap that the dose was given anyway despite the limits, and write why."""
        self.page.get_by_label("Jag har läst varningen och dosen gavs ändå").tap()
        self.page.get_by_label("Varför gavs dosen utanför ordinationens gränser?").fill(reason)
        return self


@dataclass
class EvaluatePage:
    page: Page
    base_url: str

    def record(self, effect: str, patient_name: str) -> HomeVisitPage:
        self.page.get_by_role("radio", name=effect, exact=True).check()
        self.page.get_by_role("button", name="Spara effekten").click()
        return HomeVisitPage(self.page, self.base_url).expect_loaded(patient_name)


@dataclass
class AlertsPage:
    """Staff's alert list (Larm)."""

    page: Page
    base_url: str

    def open(self) -> AlertsPage:
        SiteMenu(self.page).open().link("Larm").click()
        _arrive(self.page, "Larm")
        return self

    def row(self, patient_name: str) -> Locator:
        return self.page.locator("tbody tr", has_text=patient_name).first

    def acknowledge(self, patient_name: str) -> AlertsPage:
        self.row(patient_name).get_by_role("button", name="Kvittera larm").click()
        _arrive(self.page, "Larm")
        return self


@dataclass
class DeviceStatus:
    """What the page says about forms kept on this device (static/offline.js)."""

    page: Page

    OUTBOX = "Sparad på enheten – skickas när du har anslutning"
    SENT = "Skickad."
    RESTORED = "finns i formuläret igen. Ingenting har skickats än."
    ALREADY_SENT = "Det här formuläret är redan skickat."

    def box(self) -> Locator:
        return self.page.locator("#device-status")

    def notice(self) -> Locator:
        return self.page.locator(".device-notice")

    def wait_for_service_worker(self) -> DeviceStatus:
        """The service worker controls the page (it then serves the offline page)."""
        # Polled with evaluate: wait_for_function compiles its text, which the CSP forbids.
        for _ in range(100):
            if self.page.evaluate("!!(navigator.serviceWorker && navigator.serviceWorker.controller)"):
                return self
            self.page.wait_for_timeout(100)
        raise AssertionError("no service worker controls the page")

    def stored_entries(self) -> list[dict[str, object]]:
        return self.page.evaluate(
            "Object.values(JSON.parse(localStorage.getItem('pallapp.device.v1') || '{}'))"
        )


@dataclass
class SprUnitPage:
    """The unit's deaths and the share registered in Svenska palliativregistret."""

    page: Page
    base_url: str

    def expect_loaded(self) -> SprUnitPage:
        expect(self.page.get_by_role("heading", level=1)).to_contain_text("Svenska palliativregistret")
        return self

    def share(self) -> str:
        return self.page.locator("p.registration-share").inner_text()

    def deaths(self) -> Locator:
        return self.page.locator(".spr-not-registered a, .spr-registered a")

    def open_first_death(self) -> SprPatientPage:
        self.deaths().first.click()
        return SprPatientPage(self.page, self.base_url).expect_loaded()


@dataclass
class SprPatientPage:
    """One death's suggested answers and the questions pallapp cannot answer."""

    page: Page
    base_url: str

    def expect_loaded(self) -> SprPatientPage:
        expect(self.page.get_by_role("heading", level=1)).to_have_text(
            "Dödsfallsenkät: förslag till svar"
        )
        return self

    def answer(self, question_code: str) -> Locator:
        return self.page.locator(f'tr[data-question="{question_code}"]')

    def unanswerable(self) -> Locator:
        return self.page.locator(".spr-unanswerable li")
