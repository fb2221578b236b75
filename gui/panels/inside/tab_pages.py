"""The inside views' tabs, each built the first time it is shown (or asked for), so that
the window opens with only the visible one; and, while a run is shown without its pictures
(its folder moved or gone), one clear line in place of each tab that needs them, so that
those panels are never shown and draw and compute nothing until a run with its pictures
starts."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QTabWidget, QWidget


def missing_pictures_text(why: str) -> str:
    return f"This run's pictures are not here ({why}): use Locate the folder… above."


class _Page:
    def __init__(self, build: Callable[[], QWidget], needs_pictures: bool) -> None:
        self.build = build
        self.panel: QWidget | None = None
        self.placeholder = QWidget()  # in the tab until the panel is built
        self.note: QLabel | None = None
        self.alternate: QWidget | None = None  # shown in place of the panel (compare mode)
        self.alternates: list[QWidget] = []  # every one given, to find the tab by
        if needs_pictures:
            self.note = QLabel(objectName="picturesMissingNote", wordWrap=True)
            self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)

    @property
    def content(self) -> QWidget:
        return self.panel if self.panel is not None else self.placeholder


class TabPages:
    """``add`` a tab with the function that builds its panel; ``panel(title)`` builds it
    if need be. Connect ``tabs.currentChanged`` after making this: a tab about to be shown
    is built before any other slot hears of it."""

    def __init__(self, tabs: QTabWidget) -> None:
        self.tabs = tabs
        self._pages: dict[str, _Page] = {}
        self._missing = ""
        tabs.currentChanged.connect(self._on_current)

    def add(self, title: str, build: Callable[[], QWidget], *, needs_pictures: bool = False,
            tip: str = "", eager: bool = False) -> None:
        page = self._pages[title] = _Page(build, needs_pictures)
        index = self.tabs.addTab(page.placeholder, title)
        if tip:
            self.tabs.setTabToolTip(index, tip)
        if eager:
            self.panel(title)

    def panel(self, title: str) -> QWidget:
        """The tab's panel, built (and put in its tab) the first time it is asked for."""
        page = self._pages[title]
        if page.panel is None:
            page.panel = page.build()
            self._place(page)
        return page.panel

    def built(self, title: str) -> QWidget | None:
        """The tab's panel if it has been built, else None (and it is not built now)."""
        return self._pages[title].panel

    def current(self) -> str | None:
        """The title of the tab shown, when it shows its panel (not a note)."""
        page = self._pages.get(self.tabs.tabText(self.tabs.currentIndex()))
        return (self.tabs.tabText(self.tabs.currentIndex())
                if page is not None and page.panel is not None
                and self.tabs.currentWidget() is page.panel else None)

    def set_alternate(self, title: str, widget: QWidget | None) -> None:
        """Show ``widget`` in the tab in place of its panel (None: the panel again)."""
        page = self._pages[title]
        page.alternate = widget
        if widget is not None and widget not in page.alternates:
            page.alternates.append(widget)
        self._place(page)

    def set_missing(self, why: str) -> None:
        """``why``: why the run's pictures are not here; empty: they are."""
        self._missing = why
        for page in self._pages.values():
            if page.note is not None:
                page.note.setText(missing_pictures_text(why) if why else "")
                self._place(page)
        self._on_current(self.tabs.currentIndex())  # a note shown gave way to a placeholder

    def _shown(self, page: _Page) -> QWidget:
        """What the page's tab should hold now."""
        if self._missing and page.note is not None:
            return page.note
        return page.alternate if page.alternate is not None else page.content

    def _on_current(self, index: int) -> None:
        widget = self.tabs.widget(index)
        for title, page in self._pages.items():
            if widget is page.placeholder:
                self.panel(title)

    def _place(self, page: _Page) -> None:
        """Put what the page should show in its tab, in place of what it holds."""
        tabs, new = self.tabs, self._shown(page)
        index = next(i for i in range(tabs.count())
                     if any(tabs.widget(i) is w for w in (page.placeholder, page.panel, page.note,
                                                          *page.alternates)))
        if tabs.widget(index) is new:
            return
        current = tabs.currentIndex() == index
        title, tip = tabs.tabText(index), tabs.tabToolTip(index)
        blocked = tabs.blockSignals(True)  # the tab shown stays the same tab
        tabs.insertTab(index, new, title)
        tabs.setTabToolTip(index, tip)
        if current:  # shown before the old page goes: no other tab is shown meanwhile
            tabs.setCurrentIndex(index)
        tabs.removeTab(index + 1)
        tabs.blockSignals(blocked)
