"""A reply as the conversation decides it, before any channel renders it.

Text is always complete on its own (SMS shows only the text); richer channels add the
buttons, the contact request, the edit of the message whose button was pressed, a photo.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[tuple[str, str], ...] = ()  # (label, command text sent back when pressed)
    request_contact: str | None = None  # label of a "share my phone number" button
    remove_keyboard: bool = False
    edit_message_id: int | None = None  # show the outcome on the message whose button was pressed
    edit_text: str | None = None
    callback_id: str | None = None  # the button press to acknowledge
    photo: str | None = None  # media key of an image to attach

    def extras(self) -> dict[str, Any] | None:
        extras: dict[str, Any] = {}
        if self.buttons:
            extras["buttons"] = [list(button) for button in self.buttons]
        for key in ("request_contact", "edit_message_id", "edit_text", "callback_id", "photo"):
            value = getattr(self, key)
            if value is not None:
                extras[key] = value
        if self.remove_keyboard:
            extras["remove_keyboard"] = True
        return extras or None
