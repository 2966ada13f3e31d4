"""Admins' pages of the knowledge base: categories, information pages and the help centre's
look (title, logo, colours)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from tempodesk.core.audit import snapshot
from tempodesk.core.models import KbCategory, KbPage
from tempodesk.knowledge import LANGUAGES, site
from tempodesk.knowledge.common import KbInvalid
from web import audit, db
from web.i18n import gettext as _
from web.kb.common import admins_only, kb_bp

CATEGORY_FIELDS = ("name", "slug", "description", "language", "position")
PAGE_FIELDS = ("title", "slug", "body", "language", "position")
LOOK_FIELDS = ("title", "color_accent", "color_background", "color_text", "logo")


def _audit(kind: str, object_id: Any, before: Any, after: Any) -> None:
    """``<kind>.create``, ``.update`` or ``.delete`` in the audit log, with the change."""
    verb = "create" if before is None else "delete" if after is None else "update"
    audit.record(
        f"{kind}.{verb}", object_type=kind, object_id=object_id, before=before, after=after
    )


def _position() -> int:
    raw = request.form.get("position", "0").strip()
    return int(raw) if raw.isascii() and raw.lstrip("-").isdigit() and len(raw) < 7 else 0


# ------------------------------------------------------------------------------ categories


def _category_form() -> site.CategoryData:
    form = request.form
    return site.CategoryData(
        name=form.get("name", ""),
        slug=form.get("slug", ""),
        description=form.get("description", ""),
        language=form.get("language", "en"),
        position=_position(),
    )


def _categories_page(
    data: site.CategoryData, category: KbCategory | None, errors: dict[str, str], status: int
) -> Any:
    return (
        render_template(
            "kb/categories.html",
            categories=site.categories(db()),
            data=data,
            category=category,
            errors=errors,
            languages=LANGUAGES,
        ),
        status,
    )


@kb_bp.route("/categories", methods=["GET", "POST"])
@kb_bp.route("/categories/<int:category_id>", methods=["GET", "POST"])
def categories(category_id: int | None = None) -> Any:
    """The categories, and the form of a new one (or of ``category_id``)."""
    admins_only()
    category = db().get(KbCategory, category_id) if category_id is not None else None
    if category_id is not None and category is None:
        abort(404)
    if request.method == "GET":
        data = (
            site.CategoryData(
                name=category.name,
                slug=category.slug,
                description=category.description,
                language=category.language,
                position=category.position,
            )
            if category
            else site.CategoryData()
        )
        return _categories_page(data, category, {}, 200)
    data = _category_form()
    before = snapshot(category, CATEGORY_FIELDS) if category else None
    try:
        saved = site.save_category(db(), data, category)
    except KbInvalid as exc:
        db().rollback()
        return _categories_page(data, category, exc.errors, 422)
    db().flush()
    _audit("kb_category", saved.id, before, snapshot(saved, CATEGORY_FIELDS))
    db().commit()
    flash(_("The category “%(name)s” is saved.", name=saved.name), "success")
    return redirect(url_for("kb.categories"))


@kb_bp.route("/categories/<int:category_id>/delete", methods=["POST"])
def category_delete(category_id: int) -> Any:
    admins_only()
    category = db().get(KbCategory, category_id)
    if category is None:
        abort(404)
    _audit("kb_category", category_id, snapshot(category, CATEGORY_FIELDS), None)
    site.delete_category(db(), category)
    db().commit()
    flash(_("The category is deleted; its articles have none now."), "success")
    return redirect(url_for("kb.categories"))


# ------------------------------------------------------------------------- information pages


def _page_editor(
    data: site.PageData, page: KbPage | None, errors: dict[str, str], status: int
) -> Any:
    return (
        render_template(
            "kb/pages.html",
            pages=site.pages(db()),
            data=data,
            page=page,
            errors=errors,
            languages=LANGUAGES,
        ),
        status,
    )


@kb_bp.route("/pages", methods=["GET", "POST"])
@kb_bp.route("/pages/<int:page_id>", methods=["GET", "POST"])
def pages(page_id: int | None = None) -> Any:
    """The information pages, and the form of a new one (or of ``page_id``)."""
    admins_only()
    page = db().get(KbPage, page_id) if page_id is not None else None
    if page_id is not None and page is None:
        abort(404)
    if request.method == "GET":
        data = (
            site.PageData(
                title=page.title,
                slug=page.slug,
                body=page.body,
                language=page.language,
                position=page.position,
            )
            if page
            else site.PageData()
        )
        return _page_editor(data, page, {}, 200)
    form = request.form
    data = site.PageData(
        title=form.get("title", ""),
        slug=form.get("slug", ""),
        body=form.get("body", "").replace("\r\n", "\n"),
        language=form.get("language", "en"),
        position=_position(),
    )
    before = snapshot(page, PAGE_FIELDS) if page else None
    try:
        saved = site.save_page(db(), data, page)
    except KbInvalid as exc:
        db().rollback()
        return _page_editor(data, page, exc.errors, 422)
    db().flush()
    _audit("kb_page", saved.id, before, snapshot(saved, PAGE_FIELDS))
    db().commit()
    flash(_("The page “%(title)s” is saved.", title=saved.title), "success")
    return redirect(url_for("kb.pages", page_id=saved.id))


@kb_bp.route("/pages/<int:page_id>/delete", methods=["POST"])
def page_delete(page_id: int) -> Any:
    admins_only()
    page = db().get(KbPage, page_id)
    if page is None:
        abort(404)
    _audit("kb_page", page_id, snapshot(page, PAGE_FIELDS), None)
    db().delete(page)
    db().commit()
    flash(_("The page is deleted."), "success")
    return redirect(url_for("kb.pages"))


# ------------------------------------------------------------------------------- the look


@kb_bp.route("/look", methods=["GET", "POST"])
def look() -> Any:
    admins_only()
    if request.method == "GET":
        current = site.look(db())
        data = site.LookData(
            title=current.title,
            color_accent=current.color_accent,
            color_background=current.color_background,
            color_text=current.color_text,
        )
        return render_template("kb/look.html", data=data, errors={}, has_logo=bool(current.logo))
    upload = request.files.get("logo")
    logo = upload.read(site.MAX_LOGO_BYTES + 1) if upload and upload.filename else None
    data = site.LookData(
        title=request.form.get("title", ""),
        color_accent=request.form.get("color_accent", ""),
        color_background=request.form.get("color_background", ""),
        color_text=request.form.get("color_text", ""),
        logo=logo,
        remove_logo=request.form.get("remove_logo") == "1",
    )
    before = snapshot(site.look(db()), LOOK_FIELDS)
    try:
        site.save_look(db(), data, author=current_user.username)
    except KbInvalid as exc:
        db().rollback()
        has_logo = bool(site.look(db()).logo)
        return render_template("kb/look.html", data=data, errors=exc.errors, has_logo=has_logo), 422
    db().flush()
    _audit("kb_look", "", before, snapshot(site.look(db()), LOOK_FIELDS))
    db().commit()
    flash(_("The help centre's look is saved."), "success")
    return redirect(url_for("kb.look"))
