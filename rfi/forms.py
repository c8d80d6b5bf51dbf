"""Forms of the project package, and the form pieces every app uses: the date picker,
amounts as Danes type them, CPV codes, and a service's ValidationError shown on a form."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.forms.renderers import DjangoTemplates
from django.utils import formats
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from rfi import cpv
from rfi.formatting import currency_words
from rfi.models import Category, Region
from rfi.selectors import audit_kinds

ISO_DATE = re.compile(r"\d{4}-\d\d-\d\d")


class DateInput(forms.DateInput):
    """The browser's date picker: it sends and expects ISO dates whatever the language."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")

    def format_value(self, value):
        """An ISO date, or nothing: a date input's value may hold no other text (valid HTML;
        a browser would blank it anyway). A date typed the Danish way ("31-12-2026", from a
        browser without a date picker) comes back as the same date in ISO, so a form sent
        back for another field's error keeps it; "31-02-2026" shows the field empty, with
        its error."""
        value = super().format_value(value)
        if isinstance(value, str) and not _is_iso_date(value):
            return _typed_date_as_iso(value)
        return value


def _is_iso_date(text: str) -> bool:
    try:
        return bool(ISO_DATE.fullmatch(text)) and bool(dt.date.fromisoformat(text))
    except ValueError:
        return False


def _typed_date_as_iso(text: str) -> str | None:
    """The date in ``text`` read as a DateField reads it in this language, as ISO."""
    try:
        date = forms.DateField(required=False).to_python(text)
    except ValidationError:
        return None
    return date.isoformat() if date else None


# Danish 1.250.000,50 or 1250000,50; English 1,250,000.50 or 1250000.50; or whole numbers.
COMMA_DECIMAL = re.compile(r"^(-?)(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d+))?$")
POINT_DECIMAL = re.compile(r"^(-?)(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?$")


def parse_amount_text(text: str, *, decimal_comma: bool = True) -> Decimal | None:
    """A number typed with Danish or English separators; None when it is not one.

    Spaces (also non-breaking) and the currency ("kr.", "DKK": rfi.formatting.currency_words)
    are ignored. Thousands separators group by
    three ("12,34,5" is refused); a lone separator that the convention does not use for
    decimals is a thousands separator ("1.500" is fifteen hundred in Danish).
    """
    noise = rf"(?i)\s|{currency_words()}"
    compact = re.sub(noise, "", str(text).replace("\xa0", " ").replace("\u202f", " "))
    patterns = ((COMMA_DECIMAL, "."), (POINT_DECIMAL, ","))
    if not decimal_comma:
        patterns = patterns[::-1]
    for pattern, thousands in patterns:
        match = pattern.match(compact)
        if match:
            sign, whole, fraction = match.groups()
            try:
                return Decimal(f"{sign}{whole.replace(thousands, '')}.{fraction or '0'}")
            except InvalidOperation:
                return None
    return None


DJANGO_EMPTY_LABEL = "---------"


class FormRenderer(DjangoTemplates):
    """Django's renderer, with a dropdown's empty choice worded in the page's language.

    Django labels the empty choice of every select "---------" (model fields, ModelChoice
    fields); the pages show "Choose…" ("Vælg…") instead. A form's own empty label ("All
    regions") is kept. Settings: FORM_RENDERER.
    """

    def render(self, template_name, context, request=None):
        widget = context.get("widget") if isinstance(context, dict) else None
        if widget and "optgroups" in widget:
            for _group, options, _index in widget["optgroups"]:
                for option in options:
                    if option.get("label") == DJANGO_EMPTY_LABEL:
                        option["label"] = gettext("Choose…")
        return super().render(template_name, context, request=request)


class AmountField(forms.DecimalField):
    """An amount in kroner as people type it: "1.234.567,50", "1234567", "1 234 567".

    A text input (a number input refuses "1.234,50") showing the value in the page's
    language; the separators are read in that language's convention first.
    """

    default_error_messages = {
        "invalid": _("Type an amount, e.g. 1.234.567,50 or 1234567."),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("localize", True)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal"}))
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, Decimal | int):
            return Decimal(value)
        decimal_comma = formats.get_format("DECIMAL_SEPARATOR") == ","
        parsed = parse_amount_text(str(value), decimal_comma=decimal_comma)
        if parsed is None or not parsed.is_finite():
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return parsed


class CategoryCodeField(forms.CharField):
    """A CPV code typed as 33141000 or 33141000-0, resolved to an existing Category.

    Its errors are ``rfi.cpv``'s ("format", "unknown", "check_digit"); a form may word
    them its own way through ``error_messages``.
    """

    default_error_messages = dict(cpv.MESSAGES)

    def prepare_value(self, value):
        if isinstance(value, Category):
            return value.full_code
        if isinstance(value, int):
            category = Category.objects.filter(pk=value).first()
            return category.full_code if category else value
        return value

    def to_python(self, value):
        text = super().to_python(value)
        if not text.strip():
            return None
        try:
            return cpv.category_by_code(text)
        except ValidationError as error:
            raise ValidationError(
                self.error_messages[error.code], code=error.code, params=error.params
            ) from error


def form_errors(form: forms.BaseForm, only: tuple[str, ...] | None = None) -> list[str]:
    """A form's errors as "Label: message" lines, for the page's messages; an error of the
    whole form (not of one field) as its message alone. ``only``: these fields' errors."""
    lines = []
    for name, errors in form.errors.items():
        if only is not None and name not in only:
            continue
        label = form.fields[name].label if name in form.fields else None
        lines.extend(f"{label}: {error}" if label else str(error) for error in errors)
    return lines


def apply_service_errors(
    form: forms.BaseForm, error: ValidationError, field_map: Mapping[str, str] | None = None
) -> None:
    """Show a service's ValidationError on the form: by field where the form has one.

    ``field_map`` renames a service's field to the form's (``identifier`` → ``supplier_id``);
    a message for a field the form lacks goes to the top of the form.
    """
    field_map = field_map or {}
    if not hasattr(error, "error_dict"):
        for message in error.messages:
            form.add_error(None, message)
        return
    for key, messages in error.message_dict.items():
        name = field_map.get(key, key)
        if name in form.fields and name in form.errors:
            continue  # the field's own error (what was typed) says more than the service's
        for message in messages:
            form.add_error(name if name in form.fields else None, message)


def check_with_service(
    form: forms.BaseForm, check: Callable[[], object], field_map: Mapping[str, str] | None = None
) -> None:
    """Run a service's check from the form's ``clean()``: every error in one round.

    The service sees the values that cleaned (None for the others) and its errors join the
    fields' own, so a user never fixes one error only to be shown the next. A field that
    already has an error keeps its own message.
    """
    try:
        check()
    except ValidationError as error:
        apply_service_errors(form, error, field_map)


class LoginForm(AuthenticationForm):
    """Django's login form, with the username's length checked on the server too.

    Django caps it in the browser only (maxlength): a longer username, sent by a script,
    went on to the lockout's records (django-axes, 255 characters), a server error.
    """

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        username = self.fields["username"]
        username.validators.append(MaxLengthValidator(username.max_length))


class AuditFilterForm(forms.Form):
    """/historik/: narrow the audit trail by region, user, kind of record and date."""

    region = forms.ModelChoiceField(
        label=_("Region"),
        queryset=Region.objects.order_by("code"),
        required=False,
        empty_label=_("All regions"),
    )
    user = forms.CharField(label=_("User"), required=False, max_length=150)
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput())
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("All kinds"))] + [
            (kind.key, kind.label.capitalize()) for kind in audit_kinds()
        ]

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("date_from"), cleaned.get("date_to")
        if first and last and last < first:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned
