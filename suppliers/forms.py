"""Browser forms of the contract registry; the services do the writing and the rules."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rfi.forms import AmountField, CategoryCodeField, DateInput, check_with_service
from suppliers import selectors, services
from suppliers.models import Contract, ContractDocument, Supplier

MAX_UPLOAD_BYTES = 10 * 1024 * 1024


class ContractForm(forms.Form):
    """A contract as a region's officers register and edit it; the supplier is upserted."""

    region = forms.ModelChoiceField(label=_("Region"), queryset=None)
    supplier_identifier = forms.CharField(
        label=_("Supplier id (CVR number)"),
        max_length=Supplier._meta.get_field("identifier").max_length + 4,
        help_text=_("A Danish CVR number is 8 digits; other countries' organisation numbers."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    supplier_name = forms.CharField(
        label=_("Supplier name"),
        max_length=Supplier._meta.get_field("name").max_length,
        required=False,
        help_text=_(
            "Updates the supplier's name when it has changed; may be empty for a known id."
        ),
    )
    supplier_country = forms.CharField(
        label=_("Supplier country"),
        max_length=2,
        initial="DK",
        help_text=_("Two letters: DK, SE, NO, DE, ..."),
    )
    title = forms.CharField(
        label=_("Title"), max_length=Contract._meta.get_field("title").max_length
    )
    category = CategoryCodeField(
        label=_("CPV category"),
        help_text=_("Type the CPV code, e.g. 33141000 or 33141000-0."),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=Contract.Kind.choices)
    start_date = forms.DateField(label=_("Start"), widget=DateInput())
    end_date = forms.DateField(label=_("End"), widget=DateInput())
    extended_until = forms.DateField(
        label=_("Extended until"),
        required=False,
        widget=DateInput(),
        help_text=_("The end including exercised extensions; empty when none is exercised."),
    )
    annual_value = AmountField(
        label=_("Annual value"),
        required=False,
        min_value=0,
        max_digits=15,
        decimal_places=2,
        help_text=_("In DKK a year."),
    )
    tender_reference = forms.CharField(
        label=_("Tender case (reference)"),
        required=False,
        max_length=20,
        help_text=_("E.g. FUP-2024-012 for a joint contract; empty for the region's own tender."),
    )
    registered_after_the_fact = forms.BooleanField(
        label=_("Registered after the fact"),
        required=False,
        help_text=_("Tick when purchases were made before the contract was registered."),
    )

    def __init__(self, *args, user, contract: Contract | None = None, **kwargs):
        if contract is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_for(contract)
        super().__init__(*args, **kwargs)
        # Editing needs the same right as registering, so the contract's region is among them.
        region = self.fields["region"]
        region.queryset = selectors.regions_registrable_by(user).order_by("code")
        if region.queryset.count() == 1:
            region.empty_label = None
            self.initial.setdefault("region", region.queryset.first().pk)

    @staticmethod
    def initial_for(contract: Contract) -> dict:
        return {
            "region": contract.region_id,
            "supplier_identifier": contract.supplier.identifier,
            "supplier_name": contract.supplier.name,
            "supplier_country": contract.supplier.country,
            "title": contract.title,
            "category": contract.category,
            "kind": contract.kind,
            "start_date": contract.start_date,
            "end_date": contract.end_date,
            "extended_until": contract.extended_until,
            "annual_value": contract.annual_value,
            "tender_reference": contract.tender.reference if contract.tender_id else "",
            "registered_after_the_fact": contract.registered_after_the_fact,
        }

    @property
    def chosen_category(self):
        if self.is_bound:
            return self.cleaned_data.get("category") if hasattr(self, "cleaned_data") else None
        return self.initial.get("category")

    def clean_supplier_country(self):
        try:
            return services.supplier_country_clean(self.cleaned_data["supplier_country"])
        except ValidationError as error:
            raise ValidationError(error.message_dict["country"]) from error

    def clean_tender_reference(self):
        reference = self.cleaned_data["tender_reference"].strip()
        if not reference:
            return None
        try:
            return services.tender_by_reference(reference)
        except ValidationError as error:
            raise ValidationError(error.message_dict["tender"]) from error

    def clean(self):
        data = super().clean()
        country = data.get("supplier_country")
        if country and data.get("supplier_identifier"):
            try:
                data["supplier_identifier"] = services.supplier_identifier_clean(
                    data["supplier_identifier"], country
                )
            except ValidationError as error:
                self.add_error("supplier_identifier", error.message_dict["identifier"])
        # The contract's own rules (dates in order, …) in the same round as the fields'.
        check_with_service(self, self._contract_check, FIELD_MAP)
        return data

    def _contract_check(self) -> None:
        data = self.cleaned_data
        tender = data.get("tender_reference")
        contract = Contract(
            region=data.get("region"),
            title=data.get("title") or "",
            category=data.get("category"),
            kind=data.get("kind") or "",
            start_date=data.get("start_date"),
            end_date=data.get("end_date"),
            extended_until=data.get("extended_until"),
            annual_value=data.get("annual_value"),
            tender=tender if hasattr(tender, "pk") else None,
        )
        try:
            services.contract_validate(contract)
        except ValidationError as error:
            # The supplier is upserted on saving; its fields have their own checks above.
            problems = {k: v for k, v in error.message_dict.items() if k != "supplier"}
            if problems:
                raise ValidationError(problems) from error

    def supplier_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "identifier": data["supplier_identifier"],
            "name": data["supplier_name"],
            "country": data["supplier_country"],
        }

    def contract_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "region": data["region"],
            "title": data["title"],
            "category": data["category"],
            "kind": data["kind"],
            "start_date": data["start_date"],
            "end_date": data["end_date"],
            "extended_until": data["extended_until"],
            "annual_value": data["annual_value"],
            "tender": data["tender_reference"],
            "registered_after_the_fact": data["registered_after_the_fact"],
        }


# Service field → form field, for a service's ValidationError.
FIELD_MAP = {
    "identifier": "supplier_identifier",
    "name": "supplier_name",
    "country": "supplier_country",
    "tender": "tender_reference",
    "supplier": "supplier_identifier",
}


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Contract file (.xlsx or .csv)"),
        help_text=_(
            "Columns: region, supplier_id, supplier_name, title, category, start_date, end_date, "
            "annual_value, kind, tender_reference (Danish headers accepted too)."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 10 MB."))
        if not upload.name.lower().endswith((".xlsx", ".csv")):
            raise forms.ValidationError(_("Upload an .xlsx or .csv file."))
        return upload


# Each region's contract after a joint award (suppliers/regional.py) ----------------------------


class AwardForm(forms.Form):
    """The award of a joint case: the supplier and the contract period."""

    supplier_identifier = forms.CharField(
        label=_("Supplier id (CVR number)"),
        max_length=Supplier._meta.get_field("identifier").max_length + 4,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    supplier_name = forms.CharField(
        label=_("Supplier name"),
        max_length=Supplier._meta.get_field("name").max_length,
        required=False,
        help_text=_("May be empty for a supplier the registry knows."),
    )
    award_date = forms.DateField(label=_("Award"), widget=DateInput())
    contract_start = forms.DateField(label=_("Contract start"), widget=DateInput())
    contract_end = forms.DateField(label=_("Contract end"), widget=DateInput())


class SignForm(forms.Form):
    signed_on = forms.DateField(label=_("Signed on"), widget=DateInput())
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=None, required=False)

    def __init__(self, *args, owners=None, **kwargs):
        kwargs["initial"] = {"signed_on": timezone.localdate(), **(kwargs.get("initial") or {})}
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = (
            owners if owners is not None else get_user_model().objects.none()
        )


class OwnerForm(forms.Form):
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=None)

    def __init__(self, *args, owners=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners


class ExtensionForm(forms.Form):
    extends_to = forms.DateField(label=_("Extends the contract to"), widget=DateInput())
    notice_deadline = forms.DateField(label=_("Notice deadline"), widget=DateInput())


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=ContractDocument.Kind.choices)
    file = forms.FileField(
        label=_("File"),
        help_text=_("PDF, Word (.docx) or Excel (.xlsx)."),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.docx,.xlsx"}),
    )
