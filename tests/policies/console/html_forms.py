"""What a browser would send for a form of a page: its successful controls, read from HTML."""

from __future__ import annotations

from html.parser import HTMLParser


class _Forms(HTMLParser):
    def __init__(self, form_id: str | None, action: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.wanted = (form_id, action)
        self.inside = False
        self.depth = 0
        self.disabled = 0
        self.values: list[tuple[str, str]] = []
        self.select: str | None = None
        self.options: list[tuple[str, bool]] = []
        self.textarea: str | None = None
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and not self.inside:
            form_id, action = self.wanted
            if (form_id is None or a.get("id") == form_id) and (
                action is None or a.get("action") == action
            ):
                self.inside = True
            return
        if not self.inside:
            return
        if tag == "fieldset" and "disabled" in a:
            self.disabled += 1
        if self.disabled:
            return
        name = a.get("name")
        if tag == "input" and name and "disabled" not in a:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind in ("submit", "button", "file"):
                return
            self.values.append((name, a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and name:
            self.select, self.options = name, []
        elif tag == "option" and self.select is not None:
            self.options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea" and name:
            self.textarea, self.text = name, ""

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.text += data

    def handle_endtag(self, tag: str) -> None:
        if not self.inside:
            return
        if tag == "form":
            self.inside = False
        elif tag == "fieldset" and self.disabled:
            self.disabled -= 1
        elif tag == "select" and self.select is not None:
            chosen = [v for v, selected in self.options if selected] or [
                v for v, _ in self.options[:1]
            ]
            self.values.extend((self.select, v) for v in chosen[:1])
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            self.values.append((self.textarea, self.text.removeprefix("\n")))
            self.textarea = None


def form_data(
    page: str, *, form_id: str | None = None, action: str | None = None
) -> list[tuple[str, str]]:
    """The (name, value) pairs the first matching form of ``page`` sends as it is."""
    parser = _Forms(form_id, action)
    parser.feed(page)
    return parser.values


def replaced(
    values: list[tuple[str, str]], changes: dict[str, str | list[str]]
) -> list[tuple[str, str]]:
    """``values`` with each named control's values replaced by ``changes``'s."""
    out = [(k, v) for k, v in values if k not in changes]
    for name, value in changes.items():
        out.extend((name, v) for v in ([value] if isinstance(value, str) else value))
    return out
