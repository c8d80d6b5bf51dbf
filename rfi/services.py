"""Writes to the reference data: the CPV tree, regions, partner bodies, demo users."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction
from knox.models import AuthToken

from rfi.cpv import significant_prefix
from rfi.models import REGION_CONTACT_FIELDS, Category, Membership, PartnerBody, Region

CPV_FILE = Path(__file__).resolve().parent / "data" / "cpv_2008.csv"
CPV_FIELDS = ("check_digit", "label_en", "label_da", "label_sv", "label_nb")


@dataclass
class LoadResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def cpv_level(code: str) -> int:
    """1 for a division (XX000000), 2 group, 3 class, 4 category, up to 7 for the finest."""
    return len(significant_prefix(code)) - 1


def cpv_parent_code(code: str, known: set[str]) -> str | None:
    """The longest shorter prefix, padded with zeros, that exists in the code list."""
    significant = significant_prefix(code)
    for length in range(len(significant) - 1, 1, -1):
        candidate = significant[:length].ljust(8, "0")
        if candidate in known and candidate != code:
            return candidate
    return None


def _read_cpv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    for number, row in enumerate(rows, start=2):
        code = row.get("code") or ""
        if len(code) != 8 or not code.isdigit():
            raise ValueError(f"{path.name} row {number}, column code: {code!r} is not 8 digits")
    return rows


@transaction.atomic
def categories_load_cpv(*, path: Path = CPV_FILE, add_only: bool = False) -> LoadResult:
    """Load or refresh the CPV 2008 tree; running it again changes nothing.

    add_only: only the codes that are missing are created (seed_reference on every start);
    labels and places in the tree an administrator edited stay as they are.
    """
    rows = _read_cpv_rows(path)
    existing = {c.code: c for c in Category.objects.all()}
    # The tree spans every category, not only the file's: a partial file (a fix to a
    # few labels) must not orphan the codes it does not mention.
    known = {row["code"] for row in rows} | set(existing)
    result = LoadResult()
    to_create, to_update = [], []
    for row in rows:
        code = row["code"]
        values = {field: row[field].strip() for field in CPV_FIELDS}
        values["level"] = cpv_level(code)
        category = existing.get(code)
        if category is None:
            to_create.append(Category(code=code, **values))
        elif add_only:
            result.unchanged += 1
        elif any(getattr(category, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(category, k, v)
            to_update.append(category)
        else:
            result.unchanged += 1
    _create_with_parents(to_create, known, {code: c.id for code, c in existing.items()})
    Category.objects.bulk_update(to_update, [*CPV_FIELDS, "level"], batch_size=2000)
    result.created, result.updated = len(to_create), len(to_update)

    # The created ones already have their parent: only the places that changed are written.
    ids = dict(Category.objects.values_list("code", "id"))
    created = {category.code for category in to_create}
    reparent = []
    for category in Category.objects.only("id", "code", "parent_id"):
        parent_code = cpv_parent_code(category.code, known)
        if add_only and category.code not in created and parent_code not in created:
            continue  # an existing category keeps its parent unless a new one comes between
        parent_id = ids[parent_code] if parent_code else None
        if category.parent_id != parent_id:
            category.parent_id = parent_id
            reparent.append(category)
    Category.objects.bulk_update(reparent, ["parent"], batch_size=2000)
    return result


def _create_with_parents(to_create: list[Category], known: set[str], ids: dict) -> None:
    """Create the new categories a level at a time, each with its parent already set.

    A parent's code is a shorter prefix, so it sits on a lower level and exists (or was
    just created) before its children. Setting the parent on the insert spares one
    bulk_update of the whole tree (a CASE over ~9,400 rows: seconds on a fresh site).
    """
    to_create.sort(key=lambda category: category.level)
    for _level, group in groupby(to_create, key=lambda category: category.level):
        batch = list(group)
        for category in batch:
            parent_code = cpv_parent_code(category.code, known)
            category.parent_id = ids[parent_code] if parent_code else None
        Category.objects.bulk_create(batch, batch_size=2000)
        if all(category.pk is not None for category in batch):
            ids.update((category.code, category.pk) for category in batch)
        else:  # a database that returns no ids from a bulk insert
            codes = [category.code for category in batch]
            ids.update(Category.objects.filter(code__in=codes).values_list("code", "id"))


def _missing_contact(obj, entry: dict) -> list[str]:
    """The region's contact fields that are empty and that the file fills."""
    if not isinstance(obj, Region):
        return []
    return [k for k in REGION_CONTACT_FIELDS if entry.get(k) and not getattr(obj, k)]


@transaction.atomic
def collaboration_load(*, path: Path, add_only: bool = False) -> LoadResult:
    """Load regions and partner bodies from a collaboration file (JSON); idempotent.

    add_only: only the missing ones are created (seed_reference on every start); names and
    flags an administrator changed are kept.
    """
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    result = LoadResult()
    for model, key in ((Region, "regions"), (PartnerBody, "partner_bodies")):
        for entry in data.get(key, []):
            entry = dict(entry)
            code = entry.pop("code")
            obj = model.objects.filter(code=code).first()
            if obj is None:
                model.objects.create(code=code, **entry)
                result.created += 1
            elif not add_only and any(getattr(obj, k) != v for k, v in entry.items()):
                for k, v in entry.items():
                    setattr(obj, k, v)
                obj.save()
                result.updated += 1
            elif add_only and (missing := _missing_contact(obj, entry)):
                # Added later than the regions: an empty contact field is filled, an
                # administrator's value is kept.
                for k in missing:
                    setattr(obj, k, entry[k])
                obj.save(update_fields=missing)
                result.updated += 1
            else:
                result.unchanged += 1
    return result


@dataclass
class DemoUser:
    username: str
    password: str
    description: str
    created: bool


DEMO_ROLE_SLUGS = {
    Membership.Role.OFFICER: "officer",
    Membership.Role.UFO: "ufo",
    Membership.Role.CHIEF: "chief",
}


@transaction.atomic
def demo_users_create(*, password: str) -> list[DemoUser]:
    """One demo user per role per active region, plus a secretariat user; idempotent."""
    User = get_user_model()
    users: list[DemoUser] = []

    def ensure(username: str, description: str, **flags) -> object:
        user = User.objects.filter(username=username).first()
        created = user is None
        if created:
            user = User(username=username, **flags)
            user.set_password(password)
            user.save()
        users.append(DemoUser(username, password, description, created))
        return user

    ensure("sekretariat", "RFI secretariat (staff)", is_staff=True, is_superuser=True)
    for region in Region.objects.filter(active=True):
        for role, slug in DEMO_ROLE_SLUGS.items():
            user = ensure(
                f"{region.code.lower()}-{slug}", f"{region.name_da}: {Membership.Role(role).label}"
            )
            Membership.objects.get_or_create(user=user, region=region, role=role)
    return users


# API tokens (django-rest-knox: stored as a hash, with an expiry) ---------------------------


def api_token_issue(*, user) -> tuple[str, object]:
    """A new API token for ``user``: the secret (shown once) and its stored record."""
    record, secret = AuthToken.objects.create(user=user)
    return secret, record


def api_token_revoke(*, actor, token_key: str) -> bool:
    """The actor revokes one of their own tokens (by its public key prefix)."""
    deleted, _ = AuthToken.objects.filter(user=actor, token_key=token_key).delete()
    return bool(deleted)


def api_tokens_revoke_all(*, user) -> int:
    """Every token of ``user`` stops working: after a password change, or on request."""
    deleted, _ = AuthToken.objects.filter(user=user).delete()
    return deleted
