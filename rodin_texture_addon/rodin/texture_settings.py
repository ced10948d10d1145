"""The texture request's settings, each declared once: its kind, default, range, choices, label
and tooltip. From this table come the request's checks and form values (``TextureRequest``),
the panel's and the generate operator's Blender properties, the keywords of ``texture_objects``
and the batch command's options. No Blender here."""

import math
import struct
from dataclasses import dataclass, field
from enum import Enum

from . import contract
from .errors import InvalidInput


@dataclass(frozen=True)
class TextureSetting:
    """One field of the request. ``kind`` is ``str``, ``int``, ``float``, ``bool``, or the Enum
    of its choices (each with a label and tooltip in ``choices``). ``None`` as a value means
    "not sent": the service uses its own default."""

    name: str
    kind: type
    label: str
    tooltip: str
    default: object = None  # what the panel starts with
    minimum: float | None = None
    maximum: float | None = None
    minimum_excluded: bool = False  # the value must be greater than ``minimum``
    slider_maximum: float | None = None  # where the panel's slider ends; more can be typed
    choices: dict = field(default_factory=dict)  # Enum member -> (label, tooltip)
    advanced: bool = False  # drawn in the panel's Advanced section

    def check(self, value):
        """``value`` as the request holds it (an Enum member for a choice); ``InvalidInput``
        naming this field, in words a user understands, when it is not one."""
        if value is None:
            return None
        if issubclass(self.kind, Enum):
            return self._choice(value)
        if self.kind is bool:
            if not isinstance(value, bool):
                raise InvalidInput(self.name, "must be true or false")
        elif self.kind is str:
            if not isinstance(value, str):
                raise InvalidInput(self.name, "must be text")
        elif self.kind is int:
            if isinstance(value, bool) or not isinstance(value, int) or not self._in_range(value):
                raise InvalidInput(
                    self.name, f"must be a whole number {self.range_text()}, not {value!r}"
                )
        else:
            self._check_number(value)
        return value

    def form_value(self, value) -> str | None:
        """The plain form text the service expects, or None when nothing is sent."""
        if value is None or value == "":
            return None
        if isinstance(value, Enum):
            return value.value
        if isinstance(value, bool):
            return "true" if value else "false"
        if self.kind is float:
            return number_text(value)
        return str(value)

    def range_text(self) -> str:
        """The allowed values, in words: "from 0 to 65535", "0 or more", "PBR, Shaded"."""
        if issubclass(self.kind, Enum):
            return contract.allowed_values(self.kind)
        if self.maximum is not None:
            return f"from {self.minimum:g} to {self.maximum:g}"
        if self.minimum_excluded:
            return f"greater than {self.minimum:g}"
        return f"{self.minimum:g} or more" if self.minimum is not None else ""

    def _choice(self, value) -> Enum:
        """The member for a value, matched case-insensitively."""
        text = value.lower() if isinstance(value, str) else None
        for member in self.kind:
            if value is member or text == member.value.lower():
                return member
        raise InvalidInput(self.name, f"{value!r} is not one of: {self.range_text()}")

    def _in_range(self, value) -> bool:
        if self.minimum is not None and (
            value < self.minimum or (self.minimum_excluded and value == self.minimum)
        ):
            return False
        return self.maximum is None or value <= self.maximum

    def _check_number(self, value):
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        if not is_number or not math.isfinite(value):
            raise InvalidInput(self.name, f"must be a number, not {value!r}")
        if not self._in_range(value):
            raise InvalidInput(self.name, f"must be {self.range_text()}, not {number_text(value)}")


TEXTURE_SETTINGS = (
    TextureSetting("prompt", str, "Prompt", "Optional text to guide the texture", default=""),
    TextureSetting(
        "material",
        contract.Material,
        "Material",
        "What kind of texture the service makes",
        default=contract.Material.PBR,
        choices={
            contract.Material.PBR: ("PBR", "Base colour, roughness, metallic and normal maps"),
            contract.Material.SHADED: ("Shaded", "One colour map with lighting baked in"),
        },
    ),
    TextureSetting(
        "resolution",
        contract.Resolution,
        "Resolution",
        "The size of the texture maps",
        default=contract.Resolution.BASIC,
        choices={
            contract.Resolution.BASIC: ("Basic (2K)", "2048 × 2048 textures"),
            contract.Resolution.HIGH: ("High (4K)", "4096 × 4096 textures"),
        },
    ),
    TextureSetting(
        "seed",
        int,
        "Seed",
        "The same seed with the same inputs gives a similar texture",
        default=contract.SEED_MIN,
        minimum=contract.SEED_MIN,
        maximum=contract.SEED_MAX,
    ),
    TextureSetting(
        "reference_scale",
        float,
        "Reference Scale",
        "How strongly the reference image drives the texture",
        default=contract.DEFAULT_REFERENCE_SCALE,
        minimum=0.0,
        minimum_excluded=True,
        slider_maximum=4.0,
    ),
    TextureSetting(
        "escore",
        float,
        "PBR Detail",
        "The service's 'escore': how much detail the PBR maps get",
        default=contract.DEFAULT_ESCORE,
        minimum=0.0,
        slider_maximum=10.0,
        advanced=True,
    ),
    TextureSetting(
        "texture_delight",
        bool,
        "Remove Lighting",
        "Remove lighting baked into the reference image (texture_delight)",
        default=False,
        advanced=True,
    ),
)
SETTING_NAMES = tuple(setting.name for setting in TEXTURE_SETTINGS)
# Sent with every request too, but not a choice the add-on offers: it always asks for GLB.
GEOMETRY_FORMAT = TextureSetting(
    "geometry_file_format",
    contract.GeometryFormat,
    "Geometry Format",
    "The format of the returned model",
    default=contract.GeometryFormat.GLB,
)
REQUEST_SETTINGS = (GEOMETRY_FORMAT, *TEXTURE_SETTINGS)


def number_text(value: float) -> str:
    """The number as a person wrote it. Blender's float properties hold 32 bits, so a 0.01 typed
    in Blender arrives as 0.009999999776482582: such a value is written as the shortest decimal
    with the same 32-bit value."""
    value = float(value)
    if value.is_integer():
        return str(int(value))
    single = struct.unpack("f", struct.pack("f", value))[0]
    if single == value:
        for digits in range(1, 10):
            text = f"{value:.{digits}g}"
            if struct.unpack("f", struct.pack("f", float(text)))[0] == single:
                return text
    return repr(value)
