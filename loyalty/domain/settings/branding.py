"""The `branding` part of the programme: how the shopper's loyalty page looks and what it is called (the
app-proxy page, inside the theme or standalone, and the extensions through the page's JSON).

The defaults are today's look (a dark primary for text and buttons, the green of a reached step, no logo,
the page's usual title), so a shop that never sets it sees the page as before.

    loyalty programme set SHOP branding.primary_color="#1f3a5f" branding.logo_url=https://cdn.example/logo.png
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from loyalty.domain.errors import ProgrammeError
from loyalty.domain.settings.section import Section

COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")
DEFAULT_PRIMARY = "#1F1F1F"
DEFAULT_ACCENT = "#1E7A46"
"""Both pass WCAG AA (4.5:1) as text or as a button's background with white text."""
WORDING = ("intro", "convert_title")
"""The page's texts a merchant may reword, each a field of its own (anything else stays the app's wording)."""


@dataclass(frozen=True)
class Branding(Section):
    """`branding` in the programme document: colours (#RRGGBB), an https logo, the programme's own name
    (the page's heading) and a few wording overrides (`intro`, `convert_title`)."""

    primary_color: str = DEFAULT_PRIMARY
    """Text accents, buttons, the progress bar."""
    accent_color: str = DEFAULT_ACCENT
    """What is reached or earned (a perk unlocked, a reward the customer can afford)."""
    logo_url: str = ""
    """An https URL of the programme's logo, shown above its name; empty: no logo."""
    programme_name: str = ""
    """The page's heading (e.g. "Le Club"); empty: the app's `Fidélité` / `Loyalty program`."""
    intro: str = ""
    """The invitation shown to a visitor who is not signed in; empty: the app's wording."""
    convert_title: str = ""
    """The heading of the conversion box (store B); empty: the app's wording."""

    def check(self, where: str) -> None:
        for name in ("primary_color", "accent_color"):
            if not COLOUR.match(getattr(self, name)):
                raise ProgrammeError(f"{where}.{name}: a colour is written #RRGGBB (e.g. #1E7A46)")
        if self.logo_url:
            parts = urlsplit(self.logo_url)
            if parts.scheme != "https" or not parts.hostname or len(self.logo_url) > 500 or '"' in self.logo_url:
                raise ProgrammeError(f"{where}.logo_url: an https:// URL of at most 500 characters")
        if len(self.programme_name) > 60:
            raise ProgrammeError(f"{where}.programme_name: at most 60 characters")
        for name in WORDING:
            if len(getattr(self, name)) > 300:
                raise ProgrammeError(f"{where}.{name}: at most 300 characters")

    @property
    def texts(self) -> dict[str, str]:
        """The wording overrides the merchant set, by the page's text key."""
        return {name: getattr(self, name).strip() for name in WORDING if getattr(self, name).strip()}

    def view(self) -> dict:
        """Contract A's `branding`: what the page and the extensions show."""
        return {"primary_color": self.primary_color.upper(), "accent_color": self.accent_color.upper(),
                "logo_url": self.logo_url or None, "programme_name": self.programme_name or None}
