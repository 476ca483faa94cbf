"""What every input schema shares: text that both databases can store, and each field's own error words."""

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, field_validator


def refuse_nul(value: Any) -> Any:
    """PostgreSQL cannot store a NUL character in text; no person types one, so it is malformed input."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("Remove the invisible control character (NUL) from this text.")
    return value


PlainText = Annotated[str, AfterValidator(refuse_nul)]


class InputModel(BaseModel):
    """Base of the schemas that parse what people send, from forms and the JSON API alike."""

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return refuse_nul(value)


EVERY_ERROR = "*"


class ErrorWords:
    """A form field's own error words (made with `says`), read by app.web.friendly_message. Given as the
    field's `json_schema_extra`, it adds nothing to the API's JSON schema: the words are for pages."""

    def __init__(self, words: dict[str, str]) -> None:
        self.words = words

    def __call__(self, schema: dict[str, Any]) -> None:
        """Pydantic's hook to extend the field's JSON schema: these words leave it as it is."""


def says(every: str | None = None, /, **by_type: str) -> ErrorWords:
    """A field's own error words, for its Field(json_schema_extra=...): one sentence for any error of the
    field, and sentences for particular pydantic error types (`missing`, `string_too_long`, ...) that come
    first. Mark each with N_(); a sentence may fill in the limit pydantic reports, as "%(max_length)s".

    `missing` also answers an empty required text."""
    return ErrorWords(({EVERY_ERROR: every} if every else {}) | by_type)
