"""What every input schema shares: text that both databases can store."""

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
